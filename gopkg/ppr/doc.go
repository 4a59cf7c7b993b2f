// Package ppr computes approximate personalized PageRank (PPR) vectors on a
// graph.CSR with the local push algorithm of Andersen, Chung and Lang
// ("Local graph partitioning using PageRank vectors", FOCS 2006), as used by
// influence-based mini-batching (IBMB, Gasteiger, Qian and Günnemann, 2022):
// NodeWise computes one top-k PPR vector per target node (node-wise IBMB),
// SetWise one topic-sensitive vector per set of target nodes (batch-wise
// IBMB), and Exact is the dense power-iteration reference used by the tests.
//
// # Definition
//
// The graph is read as unweighted (g.Weights is ignored): the walk matrix is
// P = D⁻¹A, where A[u][v] counts the stored edges u→v and D holds the
// out-degrees deg(u), the row lengths of the CSR. Self-loops and parallel
// edges count like any other edge. For a teleport distribution s (the unit
// vector e_t of a target t, or the uniform distribution over a target set)
// and a teleport probability alpha, the PPR vector is
//
//	p = alpha · Σ_{k≥0} (1−alpha)^k · s·P^k.
//
// A node without out-edges has an all-zero row of P: a walk that reaches it
// stops there, so the mass (1−alpha)·x that would leave it is lost and p sums
// to less than one when such a node is reachable. In particular the PPR
// vector of an isolated target t is alpha·e_t.
//
// # Push algorithm
//
// Each vector is approximated by an estimate p̂ and a residual r, both
// dense float64 arrays, starting from p̂ = 0 and r = s. A push of node u
// moves alpha·r[u] into p̂[u], adds (1−alpha)·r[u]/deg(u) to r[v] for every
// stored edge u→v, and sets r[u] = 0; a node without out-edges simply loses
// its remaining (1−alpha)·r[u]. Every teleport node is pushed once at the
// start, whatever its residual; after that a node is pushed while
// r[u] ≥ eps·deg(u) (r[u] > 0 for a node without out-edges). Nodes wait in a
// FIFO queue and enter it when their residual crosses their threshold.
//
// The invariant p = p̂ + ppr(r) holds after every push, where ppr(r) is
// the PPR vector with teleport vector r, so 0 ≤ p − p̂ everywhere. At the end
// r[u] < eps·deg(u) for every u, and on a symmetric graph (A = Aᵀ, as built
// by graph.FromCOO with Symmetrize) this gives, for every node v,
//
//	0 ≤ p(v) − p̂(v) ≤ eps·deg(v)
//
// (Andersen et al.: reversibility gives ppr(e_u)(v)·deg(u) =
// ppr(e_v)(u)·deg(v)). On a directed graph only the total bound
// Σ_v (p(v) − p̂(v)) ≤ Σ_u r[u] < eps·Σ_u deg(u), summed over the nodes the
// vector touched, holds.
//
// # Work bound
//
// Every push after the initial ones has r[u] ≥ eps·deg(u) and moves
// alpha·r[u] ≥ alpha·eps·deg(u) into p̂, whose entries sum to at most 1. So
// the out-degrees of the nodes pushed after the initial pushes sum to at
// most 1/(alpha·eps), and one vector costs at most 1/(alpha·eps) neighbour
// updates plus the out-degrees of its teleport nodes, independently of the
// size of the graph; nodes without out-edges are pushed at most once per
// update that reached them. NodeWise and SetWise reject parameters whose
// bound 1/(alpha·eps) exceeds MaxWork (1e10, that is alpha·eps < 1e-10)
// with a value error that names the admissible range (CheckParams): such
// parameters cost hours per vector on a large graph, and an eps close to
// the smallest float64 (5e-324) would never let the push finish, because
// residuals that small stop shrinking when they are rounded.
//
// # Relation to PyTorch Geometric
//
// torch_geometric.utils.get_ppr (PyG 2.8) runs the same push with a
// different scaling: it starts from a residual alpha (not 1) at the target,
// adds the whole residual (not alpha times it) to p when pushing, and pushes
// while r[u] ≥ alpha·eps·deg(u). Its residuals are exactly alpha times ours
// at every step, so its estimate for (alpha, eps) is the p̂ of this package
// for the same (alpha, eps). It also pushes the target once
// unconditionally, and it reports exactly the pushed nodes, which are the
// positive entries reported here. The one difference is the order of the
// pushes: it takes nodes from a LIFO stack where this package uses a FIFO
// queue by default. Both orders satisfy the same error bound, but
// individual scores can differ by up to eps·deg(v), and the two may
// disagree on which low-scoring nodes are reported. With Options.Order set
// to OrderLIFO, NodeWise reproduces get_ppr's vectors up to float rounding
// (the tests check this against a plain stack-based reference).
//
// get_ppr returns an edge_index whose row 0 holds the target and row 1 the
// node reached, with the PPR score as the edge weight, grouped by target in
// the order the targets were given and, within a target, in the order of
// first push (the target first), unsorted and never truncated (newer PyG
// adds a topk argument, keeping the k largest in ascending order). Row i of a
// Result is the same group with its nodes sorted by score and optionally
// cut to the top k: row 0 of such an edge_index is
// repeat_interleave(targets, diff(Indptr)) and row 1 is Nodes.
//
// # Output
//
// Results come as a Result in CSR form: row i belongs to the i-th target
// (or target set) in the order given, and repeated targets give repeated,
// identical rows. A row holds the nodes with positive estimate — all of them
// when Options.TopK ≤ 0, the TopK largest otherwise — as int32 node ids with
// float32 scores, sorted by descending score and, among equal float32 scores,
// by ascending node id. The computation is carried out in float64 and only
// the reported scores are rounded to float32.
//
// # Determinism and parallelism
//
// Targets are handed to Options.Workers goroutines in small chunks. Every
// vector is computed independently of the others by a deterministic
// sequence of pushes, so a Result depends only on the graph, the targets and
// the options other than Workers and Progress: it is bit-for-bit identical for
// any number of workers. Each worker owns dense p̂ and r arrays, a
// per-node copy of the thresholds and a list of the nodes a vector touched
// (so that resetting costs only as much as the vector did), about
// 28·g.NumNodes bytes in all, plus a queue and its output rows; nothing is
// allocated per push and no maps are used. Per-graph arrays (thresholds and
// the factors (1−alpha)/deg, 16·g.NumNodes bytes) are computed once per call
// and shared read-only. The rows are assembled into the Result without
// locks: each worker writes to its own buffers, and a final parallel pass
// copies the rows in target order.
//
// # Devices
//
// Options.Device = Device{CUDA: true} runs the push on a GPU through the
// DeviceBackend registered with SetCUDABackend; this package holds no
// device code and builds without cgo. Package gopkg/ppr/pprcuda registers
// the CUDA kernels of kernels/cuda when imported (the bindings import it);
// without it, or in a build without cgo, a GPU push fails with an error of
// kind errs.Unavailable and callers may fall back to the CPU. Vectors whose
// device workspace overflowed are recomputed on the CPU and spliced in
// (Result.ReplaceRows).
//
// # Cancellation
//
// NodeWiseContext and SetWiseContext stop when their context is cancelled:
// every worker looks at it before each vector and, within and across
// vectors, after every 2^16 pushes and neighbour updates (well under a
// millisecond of work on a graph that fits in the caches, a few
// milliseconds when every update misses them), and the renumbering for
// cache locality looks every 2^14 nodes. A cancelled call returns promptly,
// every worker goroutine having exited, with an error wrapping ctx.Err()
// (and no Result). A call that is not cancelled computes exactly what
// NodeWise and SetWise compute.
//
// # Errors
//
// Functions return errors for problems with their input and never panic for
// them. Every error wraps graph.ErrIndex when a target node id is negative or
// not below g.NumNodes, and graph.ErrValue for any other invalid input (a nil
// or invalid graph, alpha outside (0, 1), a non-positive or non-finite eps,
// alpha·eps below 1/MaxWork, a negative worker count, an empty list of targets, an empty target set), so
// that callers can classify them with errors.Is (or by kind, errs.Index and
// errs.Value of gopkg/errs). A GPU push that cannot run here wraps
// errs.Unavailable. A non-nil error always comes with a nil Result
// and zero Stats.
package ppr
