// Package partition splits an undirected graph into a given number of parts
// of roughly equal node weight while cutting few edges, the graph
// partitioning step of batch-wise influence-based mini-batching (IBMB).
//
// # Algorithm
//
// Partition has two schemes, chosen by Options.Algorithm. Both are written
// from scratch; the default, Deep, follows the deep multilevel scheme of
// KaMinPar (Gottesbüren, Heuer, Sanders, Schulz, Seemaier: "Deep Multilevel
// Graph Partitioning", ESA 2021), made deterministic.
//
// Deep (the default), with C = 2000 and ε = Options.Imbalance:
//
//  1. Coarsening by size-constrained label propagation. Every node starts
//     in its own cluster; for up to 4 rounds every node joins the
//     neighbouring cluster it is most strongly connected to if that is
//     strictly stronger than its own cluster and the joined cluster stays
//     within ε·W/k' (W the total node weight, k' = min(max(n/C, 2), Parts)
//     the number of blocks the graph will be split into at this size, so
//     that coarse nodes stay light enough to balance). Nodes are visited
//     by degree bucket (low degrees first) in runs of 64 consecutive ids in
//     random order. A round is cut into sub-rounds of max(256, n/256)
//     nodes whose choices are computed in parallel against the state at
//     the start of the sub-round and applied in visiting order where the
//     cap still allows. From the third round on only nodes next to a moved node are
//     visited. When the clusters still number more than half the nodes,
//     lone nodes are grouped with lone nodes that favour the same
//     neighbouring cluster, and isolated nodes with each other (two-hop
//     clustering; hubs and stars would stall coarsening otherwise). The
//     clusters are contracted in parallel. Coarsening stops at 2C nodes or
//     when a level shrinks by less than 5%.
//  2. Initial partitioning interleaved with uncoarsening. Blocks stand for
//     ranges of final parts: the coarsest graph is one block for all
//     parts, split by recursive bisection until its blocks stand for at
//     most ⌈Parts/k'⌉ parts each (k' the power of two nearest above n/C,
//     at least 2). On every level back up, after refinement, blocks are
//     split again while the level has more than about C nodes per block,
//     and on the level just above the finest into at least Parts/f blocks
//     (f the least power of two ≥ 2 that leaves 100 of its nodes per
//     block), so that the finest level splits no block more than f ways;
//     on the finest level all remaining blocks are split down to single
//     parts. Blocks are split in parallel, each by recursive bisection of
//     the subgraph it induces. Every bisection is itself multilevel and
//     sequential: the subgraph is coarsened by one-round label propagation
//     (clusters at most 1/50 of a side's weight limit while the graph has
//     more than 300 nodes, 1/8 below) to about 32 nodes; 32 bisections of
//     the coarsest graph (greedy graph growing and breadth-first growing
//     from pseudo-peripheral and from random nodes) are each improved by
//     2-way FM, the best is kept and improved by FM on every level back up.
//     A side gets the adaptive slack of recursive bisection,
//     (1+ε')^⌈log2 r⌉ = r·L/W_block for a block of r parts, but at least ε/2
//     (blocks already at their limit were split badly without it) and room
//     for one node. The bisection of the whole coarsest graph is done twice
//     and the better kept.
//  3. Refinement on every level: a balancer moves nodes out of blocks over
//     their limit (the limit of a block of r parts is r·L, relaxed on
//     coarse levels to r·L/(1+ε) plus the heaviest node), taking candidates
//     in order of their gain per weight; then up to 5 rounds of label
//     propagation move boundary nodes to the neighbouring block with the
//     largest gain that can take them (zero-gain moves only when they even
//     out the two blocks), with moves proposed in parallel per sub-round
//     and applied in visiting order after recomputing them on the current
//     state; a node is visited again when a neighbour moved or its best
//     block was full. While there are two blocks, 2-way FM follows. The
//     balancer runs again at the end.
//
// HeavyEdge (the previous default):
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
// For both algorithms:
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
//
// # Determinism
//
// The result depends only on the graph, NodeWeights, Parts, Imbalance,
// Seed and Algorithm, never on Workers or on goroutine scheduling. The deep
// scheme cuts all parallel work into chunks fixed by the graph alone, lets
// every chunk write only state it owns, and applies the moves proposed in
// parallel sequentially in a fixed order; ties are broken by hashes of the
// seed and node ids, not by which goroutine looks first. Loops with little
// work (under 64k adjacency entries) run on one goroutine, which changes
// nothing but the time. (KaMinPar, whose scheme it follows, is not
// deterministic.)
//
// # Cancellation
//
// PartitionContext stops when its context is cancelled and returns an error
// wrapping ctx.Err() and no partition. The heavy-edge scheme's loops count
// their work (edges scanned, queue operations) and look at the context
// every 2^16 units (at most tens of milliseconds of work). The deep scheme
// looks at it before every chunk of parallel work (clustering,
// contraction, projection, refinement, balancing), every few thousand
// steps of its sequential loops (clustering, applying refinement moves),
// during every 2-way FM pass (counted like the heavy-edge scheme's queue
// operations), and before every move of the final balancing and filling
// of empty parts. The checks never change the result of a call that is
// not cancelled.
//
// # Errors
//
// Invalid input is reported by an error wrapping graph.ErrValue (or
// graph.ErrIndex for out-of-range node ids in the graph); nothing panics on
// bad input. An unknown Algorithm is a value error.
package partition
