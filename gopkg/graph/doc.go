// Package graph holds the compressed sparse row (CSR) adjacency used by the
// ibmb engine, together with the operations that influence-based
// mini-batching needs on it: building from PyTorch Geometric style COO edge
// lists, degree normalisation, induced subgraphs for batches, and transposes.
//
// # Representation
//
// A graph on NumNodes nodes with nodes numbered 0 … NumNodes-1 is stored as a
// CSR: the out-neighbours of node u are
//
//	Indices[Indptr[u]:Indptr[u+1]]
//
// and, when the graph is weighted, the matching edge weights are
// Weights[Indptr[u]:Indptr[u+1]]. An edge u→v therefore lives in row u, the
// same convention as a PyG edge_index whose first row holds sources.
//
// # Invariants
//
// Every CSR produced by this package satisfies the following, and
// (*CSR).Validate checks exactly these:
//
//   - 0 ≤ NumNodes ≤ math.MaxInt32, so that every node id fits in an int32;
//   - len(Indptr) == NumNodes+1, Indptr[0] == 0, Indptr is non-decreasing and
//     Indptr[NumNodes] == len(Indices);
//   - every entry of Indices lies in [0, NumNodes);
//   - within each row the column ids are sorted in ascending order (repeated
//     ids, i.e. parallel edges, are allowed unless the graph was built with
//     duplicate removal);
//   - Weights is either nil (unweighted: every edge has weight 1) or has
//     exactly len(Indices) finite entries.
//
// Methods other than Validate assume these invariants hold. A CSR assembled
// by hand, or loaded from outside, should be checked with Validate first;
// operating on a CSR that violates them may panic.
//
// # Determinism
//
// FromCOO runs in parallel for large inputs but its output depends only on
// its arguments, never on the number of goroutines or their scheduling: rows
// are always sorted, so the order in which edges were scattered is
// irrelevant.
//
// # Errors
//
// Functions return errors for problems caused by their input data and never
// panic for them. Every such error wraps one of two sentinels, ErrIndex (a
// node id is negative or out of range) or ErrValue (any other bad value: a
// length mismatch, duplicate batch nodes, an overflow, an unknown option), so
// that callers can tell them apart with errors.Is. The two sentinels are of
// kinds errs.Index and errs.Value (package gopkg/errs), which every package
// of the engine shares.
package graph
