package cuda_test

import (
	"errors"
	"fmt"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
)

// Choosing between the GPU and a CPU fallback, then gathering rows of
// device tensors. (Compile-only: whether a GPU is present varies.)
func Example() {
	if err := cuda.Available(); err != nil {
		if errors.Is(err, cuda.ErrUnavailable) {
			fmt.Println("using the CPU path:", err)
		}
		return
	}
	info, err := cuda.Device(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("gathering on", info)

	// Device pointers and the stream come from the caller, e.g. PyTorch:
	// src.data_ptr(), dst.data_ptr(), idx.data_ptr() (int64) and
	// torch.cuda.current_stream().cuda_stream.
	var dst, src, idx, stream uintptr
	var srcRows, rowBytes, n int64
	err = cuda.Gather(0, dst, src, srcRows, rowBytes, idx, n, stream)
	switch {
	case errors.Is(err, cuda.ErrIndex):
		fmt.Println("bad index, output untouched:", err)
	case err != nil:
		fmt.Println(err)
	}
}

// Compiling a kernel to PTX needs NVRTC but no GPU. (Compile-only: whether
// NVRTC is installed varies.)
func ExampleCompilePTX() {
	ptx, err := cuda.CompilePTX(cudasrc.Gather, "gather.cu", 90)
	if err != nil {
		fmt.Println(err) // ErrUnavailable without NVRTC, ErrCompile with the log on a source error
		return
	}
	fmt.Println(len(ptx) > 0)
}

// Top-k personalized PageRank of many seeds on the GPU, with the CPU
// recomputing the few seeds whose vectors did not fit in the GPU's hash
// tables. (Compile-only: whether a GPU is present varies.)
func ExamplePPRPush() {
	// A path 0 - 1 - 2 in CSR form (both directions stored).
	indptr := []int64{0, 1, 3, 4}
	indices := []int32{1, 0, 2, 1}
	seeds := []int64{0, 1, 2}
	res, err := cuda.PPRPush(0, indptr, indices, nil, seeds, cuda.PPROptions{Alpha: 0.25, Eps: 1e-4, TopK: 2})
	if errors.Is(err, cuda.ErrUnavailable) {
		fmt.Println("no GPU, using the CPU push:", err)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	if len(res.Overflowed) > 0 {
		// Compute the rows of seeds[res.Overflowed[j]] on the CPU and
		// splice them in (ppr.Result.ReplaceRows); package gopkg/ppr with
		// gopkg/ppr/pprcuda does all of this.
	}
	for i := range res.NumRows() {
		lo, hi := res.Indptr[i], res.Indptr[i+1]
		fmt.Println(seeds[i], res.Nodes[lo:hi], res.Scores[lo:hi])
	}
}

// Copying page-locked host rows to the device on a side stream while the
// consumer's stream keeps working, ordered by events. (Compile-only.)
func ExampleNewStream() {
	const bytes = 1 << 20
	host, err := cuda.AllocHost(0, bytes) // page-locked, zero-filled
	if err != nil {
		fmt.Println(err) // e.g. cuda unavailable: libcuda.so.1 not found (no NVIDIA driver)
		return
	}
	defer cuda.FreeHost(0, host)
	dst, err := cuda.Alloc(0, bytes)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cuda.Free(0, dst)
	side, err := cuda.NewStream(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cuda.DestroyStream(0, side)
	done, err := cuda.NewEvent(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cuda.DestroyEvent(0, done)
	var consumer uintptr // e.g. torch.cuda.current_stream().cuda_stream
	for _, err := range []error{
		cuda.CopyToDeviceAsync(0, dst, host, bytes, side),
		cuda.RecordEvent(0, done, side),
		cuda.StreamWaitEvent(0, consumer, done), // the consumer's later work sees dst
	} {
		if err != nil {
			fmt.Println(err)
			return
		}
	}
}
