// Package history keeps historical embeddings (GNNAutoScale, Fey et al.
// 2021): for each hidden layer of a GNN, one [N, d] row-major matrix of the
// embeddings last computed for every node. A mini-batch computes its own
// nodes exactly, reads the embeddings of out-of-batch neighbours from the
// history (Pull, a gather) and writes its fresh ones back (Push, a scatter).
//
// # Placements
//
// New keeps the matrices in host memory. NewWith with Options{Placement}
// places them elsewhere:
//
//   - Host: an anonymous mapping (transparent huge pages advised); rows move
//     through the CPU kernels (kernels/gather, kernels/scatter).
//   - Pinned: page-locked host memory of a CUDA device's context
//     (cuMemAllocHost). Pull, Push, PullPtr and PushPtr work as for Host;
//     PullAsync fetches rows to device memory without blocking the caller:
//     a goroutine gathers them into a page-locked staging buffer, then the
//     copy (cuMemcpyHtoDAsync) is queued on the store's own side stream,
//     after an event that orders it behind the work already queued on the
//     consumer's stream; Pending.Wait makes the consumer stream wait for the
//     copy (cuStreamWaitEvent), waits for it on the host and recycles the
//     staging buffer. This is GNNAutoScale's overlap of the next batch's
//     halo transfer with the current batch's compute.
//   - Device: device memory (cuMemAlloc), checked against cuMemGetInfo
//     before anything is allocated. PullDevice and PushDevice take device
//     pointers and a stream (e.g. PyTorch's current stream) and run the CUDA
//     gather and scatter of kernels/cuda: the id check synchronizes the
//     stream, the copy is queued on it. Pull and Push with Go slices also
//     work (through temporary device buffers: a convenience, not a fast
//     path); PullPtr and PushPtr (host pointers) are refused.
//
// Pinned and Device stores need the NVIDIA driver at run time (Device
// stores also NVRTC) and cgo at build time; otherwise NewWith fails with
// an error wrapping errs.Unavailable. Both are tested against the
// CPU-emulated driver of kernels/cuda (testdata/fakecuda), which runs the
// real kernels and records which stream each copy and event went to; they
// have not run on a real GPU yet.
//
// # Invariants
//
//   - Each layer's matrix lives outside the Go heap, zero-filled when the
//     store is made, so callers may view it without a copy and cgo rules
//     hold. Addr gives its address (a device address for a Device store);
//     it is valid until Close.
//   - Rows move as bytes. The store's DType fixes the element size (float32,
//     float16, bfloat16 or float64); Pull and Push copy rows of
//     Dim(layer)*DType.Size() bytes verbatim, so a pushed row is pulled back
//     bit for bit. Converting between the model's dtype and a narrower
//     storage dtype is the caller's job.
//   - Push ids must be distinct (the rule of kernels/scatter); Pull ids may
//     repeat.
//   - Every id is checked before anything is written: an error leaves the
//     store (Push) or the output (Pull) unchanged. This holds for every
//     placement (the CUDA kernels check on the device first; PullAsync
//     checks on the host before it starts).
//   - Sizes are checked against the memory available (internal/memlimit)
//     before anything is allocated.
//
// # Concurrency
//
// A Store is safe for concurrent use. Each layer has a readers-writer lock:
// Pulls of a layer run in parallel with each other, a Push of a layer
// excludes other Pulls and Pushes of that layer (so a row is never seen
// half written), and different layers never wait for each other. Close
// waits for running calls and makes later ones fail; it also waits for
// asynchronous pulls (finishing those nobody waited for) and releases their
// side stream, events and staging buffers. GPU work a caller queued on its
// own streams against a Device store is ordered by those streams, not by
// the layer locks: the caller synchronizes streams it mixes.
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
