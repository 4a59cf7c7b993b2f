package cuda

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
)

func TestScatterGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(5, 6))
	sweepRowsGPU(t, rng, rowcopy.Scatter, []int64{1, 2, 3, 4, 6, 8, 12, 16, 24, 48, 64, 100, 128, 256, 260, 1024, 4100},
		61, 37, [][3]int64{{16, 30000, 20000}, {1 << 17, 5, 3}, {5, 1, 1}})
}

// TestScatterArgs: argument errors need no device.
func TestScatterArgs(t *testing.T) {
	for _, e := range []error{
		Scatter(0, 0, 10, 4, 8, 16, 1, 0),
		Scatter(0, 64, 10, 0, 8, 16, 1, 0),
		Scatter(0, 64, 10, 4, 8, 12, 1, 0),
		Scatter(0, 64, 10, 4, 70, 256, 1, 0), // src overlaps dst
	} {
		if !errors.Is(e, ErrValue) {
			t.Errorf("got %v, want ErrValue", e)
		}
	}
}
