package dtype_test

import (
	"fmt"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
)

// TestCodes pins every type's code, size and name: the codes are written to
// arena files and passed by callers as integers, so none may change.
func TestCodes(t *testing.T) {
	for _, tc := range []struct {
		d    dtype.DType
		code uint32
		size int64
		name string
	}{
		{dtype.None, 0, 0, "none"},
		{dtype.Float32, 1, 4, "float32"},
		{dtype.Float16, 2, 2, "float16"},
		{dtype.BFloat16, 3, 2, "bfloat16"},
		{dtype.Float64, 4, 8, "float64"},
		{dtype.DType(5), 5, 0, "DType(5)"},
		{dtype.DType(1 << 31), 1 << 31, 0, "DType(2147483648)"},
	} {
		if uint32(tc.d) != tc.code || tc.d.Size() != tc.size || tc.d.String() != tc.name {
			t.Errorf("code %d: got size %d, name %q; want %d, %q", uint32(tc.d), tc.d.Size(), tc.d, tc.size, tc.name)
		}
	}
}

func ExampleDType() {
	rowBytes := 128 * dtype.BFloat16.Size()
	fmt.Println(dtype.BFloat16, dtype.BFloat16.Size(), rowBytes)
	// Output: bfloat16 2 256
}
