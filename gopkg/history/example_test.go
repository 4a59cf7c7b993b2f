package history_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/gopkg/history"
)

func Example() {
	// Histories of two hidden layers (widths 2 and 3) for 5 nodes, float32.
	h, err := history.New(5, []int64{2, 3}, dtype.Float32)
	if err != nil {
		panic(err)
	}
	defer h.Close()

	f32 := func(vs ...float32) []byte {
		b := make([]byte, 0, 4*len(vs))
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	// A batch computed nodes 4 and 1 in layer 0: push their rows.
	if err := h.Push(0, f32(4.5, 4.25, 1.5, 1.25), []int64{4, 1}); err != nil {
		panic(err)
	}
	// The next batch needs nodes 1, 0 and 4 (node 0 was never pushed: zeros).
	out := make([]byte, 3*h.RowBytes(0))
	if err := h.Pull(0, []int64{1, 0, 4}, out); err != nil {
		panic(err)
	}
	vals := make([]float32, 0, len(out)/4)
	for i := 0; i < len(out); i += 4 {
		vals = append(vals, math.Float32frombits(binary.LittleEndian.Uint32(out[i:])))
	}
	fmt.Println(vals)
	fmt.Println(h.Bytes(), "bytes")

	err = h.Push(0, f32(1, 2, 3, 4), []int64{3, 3})
	fmt.Println(errors.Is(err, history.ErrDuplicate))
	// Output:
	// [1.5 1.25 0 0 4.5 4.25]
	// 100 bytes
	// true
}

// ExampleNewWith keeps the histories in page-locked host memory and fetches
// the next batch's halo rows to the GPU on a side stream while the current
// batch computes. It needs a CUDA device, so it is compiled but not run
// here (its calls run in the tests on the emulated driver).
func ExampleNewWith() {
	h, err := history.NewWith(1000, []int64{64}, dtype.Float16, history.Options{Placement: history.Pinned, Device: 0})
	if err != nil {
		fmt.Println(err) // e.g. "cuda unavailable: libcuda.so.1 not found (no NVIDIA driver)"
		return
	}
	defer h.Close()
	var (
		halo   = []int64{7, 3, 999} // next batch's out-of-batch neighbours
		dst    uintptr              // device buffer of len(halo)*h.RowBytes(0) bytes, e.g. a tensor's data_ptr()
		stream uintptr              // the stream that will read dst, e.g. torch.cuda.current_stream().cuda_stream
	)
	p, err := h.PullAsync(0, halo, dst, stream)
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... compute the current batch ...
	if err := p.Wait(); err != nil { // dst holds the rows for work queued on stream from now on
		fmt.Println(err)
	}
}
