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
