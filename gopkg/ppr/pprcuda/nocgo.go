//go:build !cgo

package pprcuda

import (
	"context"
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

func init() { ppr.SetCUDABackend(Backend{}) }

// Backend stands in for the CUDA push in a build without cgo: every Push
// fails with an error of kind errs.Unavailable.
type Backend struct{}

// Push reports that the CUDA push is not part of this build.
func (Backend) Push(context.Context, int, *graph.CSR, []int64, []int64, ppr.DeviceOptions) (*ppr.DeviceResult, error) {
	return nil, fmt.Errorf("%w: cuda: built without cgo", errs.Unavailable)
}
