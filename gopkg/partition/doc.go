// Package partition splits an undirected graph into a given number of parts
// of roughly equal node weight while cutting few edges, the graph
// partitioning step of batch-wise influence-based mini-batching (IBMB).
//
// # Algorithm
//
// Partition is a multilevel partitioner written from scratch:
//
//  1. Coarsening. The graph is repeatedly contracted along a heavy-edge
//     matching: nodes are visited in a random order drawn from Options.Seed
//     and each unmatched node is merged with the unmatched neighbour joined
//     by the heaviest edge, subject to a cap on the merged node weight;
//     edges lighter than 1/8 of the node's heaviest edge are never
//     contracted. When too few nodes get matched (stars, isolated nodes) a
//     second pass pairs unmatched nodes that share their heaviest neighbour
//     and pairs isolated nodes with each other. Coarsening stops once the
//     graph has at most max(20·Parts, 200) nodes or shrinks by less than 5%
//     in a level.
//  2. Initial partitioning. The coarsest graph is split by recursive
//     bisection, and every bisection is itself multilevel: the (sub)graph is
//     coarsened to about 100 nodes, bisected there by greedy graph growing
//     from a random seed node (always adding the frontier node whose move
//     lowers the cut most; 8 tries, the balanced one with the fewest cut
//     edges wins, tries run on up to Options.Workers goroutines), and the
//     bisection is refined on every level back up.
//  3. Uncoarsening. The k-way partition is projected back level by level; at
//     every level an explicit balancing step moves nodes out of overweight
//     parts (cheapest cut increase first), then up to 4 passes of FM-style
//     refinement follow: boundary nodes sit in a priority queue keyed by the
//     gain of their best admissible move (neighbour keys are updated lazily
//     with an optimistic bound and made exact when popped), the best move is
//     applied even if its gain is negative, each node moves at most once per
//     pass, a pass stops after a bounded run of non-improving moves, and the
//     moves after the best point are rolled back. A move is admissible if the
//     receiving part stays within the weight limit, the node is not the last
//     one of its part, and (k-way only) the sending part keeps at least its
//     floor weight ⌊min(0.9, 1/(1+Imbalance))·W/Parts⌋ (parts already below
//     the floor can still receive nodes). Without the floor, hill climbing
//     drained small parts down to one node or none. Bisections are refined
//     the same way with two parts; a bisection that would leave a side with
//     fewer nodes than parts assigned to it is corrected by moving the
//     lightest nodes across.
//
// # Invariants
//
//   - The result has one entry per node and every entry lies in [0, Parts).
//   - With W the total node weight, the allowed part weight is
//     L = max(⌊(1+Imbalance)·W/Parts⌋, ⌈W/Parts⌉). Balancing guarantees at
//     the finest level that every part weighs at most
//     max(L, W/Parts + wmax) where wmax is the largest node weight, that is
//     Balance ≤ 1 + Imbalance + wmax·Parts/W; with unit weights and
//     NumNodes ≫ Parts the bound L itself is met in practice.
//   - The graph is treated as undirected: an entry u→v is taken as the
//     undirected edge {u, v}, both directions of an edge add up, parallel
//     edges add up and self-loops are ignored. Edge weights are 1 unless
//     CSR.Weights is set; zero-weight edges are ignored.
//   - Non-empty parts: whenever NumNodes ≥ Parts every part holds at least
//     one node, whatever the node weights (the guarantee is about node
//     counts; with zero-weight nodes a part may hold weight 0). Parts == 1
//     puts every node in part 0. Parts ≥ NumNodes puts node i in part i,
//     leaving parts NumNodes … Parts-1 empty. Keeping parts non-empty never
//     breaks the balance bound above: a part is only left overweight by the
//     balancing step when it is a single node, of weight ≤ wmax.
//   - The result depends only on the graph, NodeWeights, Parts, Imbalance
//     and Seed, never on Workers or on goroutine scheduling.
//
// # Cancellation
//
// PartitionContext stops when its context is cancelled: the loops of every
// phase count their work (edges scanned, queue operations) and look at the
// context every 2^16 units (at most tens of milliseconds of work), so
// the call returns promptly with an error wrapping ctx.Err(). The checks
// never change the result of a call that is not cancelled.
//
// # Errors
//
// Invalid input is reported by an error wrapping graph.ErrValue (or
// graph.ErrIndex for out-of-range node ids in the graph); nothing panics on
// bad input.
package partition
