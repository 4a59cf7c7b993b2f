// Package history keeps historical embeddings (GNNAutoScale, Fey et al.
// 2021): for each hidden layer of a GNN, one [N, d] row-major matrix of the
// embeddings last computed for every node. A mini-batch computes its own
// nodes exactly, reads the embeddings of out-of-batch neighbours from the
// history (Pull, a gather) and writes its fresh ones back (Push, a scatter).
//
// # Invariants
//
//   - Each layer's matrix lives outside the Go heap (an anonymous mapping,
//     transparent huge pages advised), zero-filled when the store is made,
//     so callers may view it without a copy and cgo rules hold. Addr gives
//     its address; it is valid until Close.
//   - Rows move as bytes. The store's DType fixes the element size (float32,
//     float16, bfloat16 or float64); Pull and Push copy rows of
//     Dim(layer)*DType.Size() bytes verbatim, so a pushed row is pulled back
//     bit for bit. Converting between the model's dtype and a narrower
//     storage dtype is the caller's job.
//   - Push ids must be distinct (the rule of kernels/scatter); Pull ids may
//     repeat.
//   - Every id is checked before anything is written: an error leaves the
//     store (Push) or the output (Pull) unchanged.
//   - Sizes are checked against the memory available (internal/memlimit)
//     before anything is allocated.
//
// # Concurrency
//
// A Store is safe for concurrent use. Each layer has a readers-writer lock:
// Pulls of a layer run in parallel with each other, a Push of a layer
// excludes other Pulls and Pushes of that layer (so a row is never seen
// half written), and different layers never wait for each other. Close
// waits for running calls and makes later ones fail.
//
// # Errors
//
// Invalid arguments (layer out of range, buffer sizes, nil pointers, a
// closed store, bad shapes) wrap ErrValue; ids out of range wrap ErrIndex;
// repeated push ids wrap ErrDuplicate (and ErrValue); sizes the machine
// cannot give wrap memlimit.ErrMemory.
//
// # Determinism
//
// Pull and Push results depend only on their arguments and the store's
// contents; the kernels' thread count and tier never change the bytes.
package history
