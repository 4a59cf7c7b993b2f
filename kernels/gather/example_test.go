package gather_test

import (
	"errors"
	"fmt"

	"github.com/ibmb-dev/ibmb/kernels/gather"
)

func ExampleFloat32() {
	// A 4x3 matrix of float32, row-major.
	src := []float32{
		0, 1, 2,
		10, 11, 12,
		20, 21, 22,
		30, 31, 32,
	}
	idx := []int64{3, 0, 3}
	dst := make([]float32, len(idx)*3)
	if err := gather.Float32(dst, src, 3, idx); err != nil {
		panic(err)
	}
	fmt.Println(dst)

	err := gather.Float32(dst, src, 3, []int64{1, 2, 4})
	fmt.Println(err)
	fmt.Println(errors.Is(err, gather.ErrIndex))
	// Output:
	// [30 31 32 0 1 2 30 31 32]
	// gather: index 4 at position 2 is out of range for 4 rows
	// true
}
