//go:build cgo

package pprcuda

import (
	"context"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
)

func init() { ppr.SetCUDABackend(Backend{}) }

// Backend is the CUDA push of kernels/cuda as a ppr.DeviceBackend. Its
// errors are kernels/cuda's, which wrap the kinds of gopkg/errs.
type Backend struct{}

// Push runs cuda.PPRPushContext on device ordinal; see ppr.DeviceBackend.
func (Backend) Push(ctx context.Context, ordinal int, g *graph.CSR, setPtr, setNodes []int64, opt ppr.DeviceOptions) (*ppr.DeviceResult, error) {
	res, err := cuda.PPRPushContext(ctx, ordinal, g.Indptr[:g.NumNodes+1], g.Indices, setPtr, setNodes,
		cuda.PPROptions{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.TopK})
	if err != nil {
		return nil, err
	}
	return &ppr.DeviceResult{
		Result:     ppr.Result{Indptr: res.Indptr, Nodes: res.Nodes, Scores: res.Scores},
		Overflowed: res.Overflowed,
		Stats:      ppr.Stats{Pushes: res.Stats.Pushes, EdgePushes: res.Stats.EdgePushes},
	}, nil
}
