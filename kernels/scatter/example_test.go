package scatter_test

import (
	"errors"
	"fmt"

	"github.com/ibmb-dev/ibmb/kernels/scatter"
)

func ExampleFloat32() {
	// A 4x2 store of float32, row-major, and two fresh rows for ids 3 and 0.
	store := make([]float32, 4*2)
	rows := []float32{30, 31, 0.5, 1.5}
	if err := scatter.Float32(store, rows, 2, []int64{3, 0}); err != nil {
		panic(err)
	}
	fmt.Println(store)

	err := scatter.Float32(store, rows, 2, []int64{1, 1})
	fmt.Println(err)
	fmt.Println(errors.Is(err, scatter.ErrDuplicate))
	// Output:
	// [0.5 1.5 0 0 0 0 30 31]
	// scatter: index 1 occurs at positions 0 and 1; ids must be distinct
	// true
}
