package ppr

import (
	"context"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// NodeWise computes an approximate PPR vector for every target node: row i
// of the Result is the vector whose teleport distribution is the unit vector
// of targets[i], keeping its opt.TopK largest entries (all positive entries
// when opt.TopK ≤ 0). Targets may repeat and come in any order. See the
// package documentation for the push rule, the error bound and the relation
// to PyTorch Geometric's get_ppr, whose output for (alpha, eps, target)
// NodeWise reproduces up to rounding and push order.
//
// The weights of g, if any, are ignored. The returned Stats count the
// pushes done. Errors wrap graph.ErrValue for a nil or invalid g, invalid
// options or an empty targets, and graph.ErrIndex for a target id out of
// [0, g.NumNodes), naming its position. With opt.Device.CUDA, errors wrap
// errs.Unavailable when no CUDA device can be used (see DeviceBackend).
func NodeWise(g *graph.CSR, targets []int64, opt Options) (*Result, Stats, error) {
	return NodeWiseContext(context.Background(), g, targets, opt)
}

// NodeWiseContext is NodeWise stopping early when ctx is cancelled: it then
// returns, within milliseconds and with all its goroutines finished, an
// error wrapping ctx.Err() and no Result (also when the cancellation comes
// during its last steps).
func NodeWiseContext(ctx context.Context, g *graph.CSR, targets []int64, opt Options) (*Result, Stats, error) {
	if err := opt.validate(); err != nil {
		return nil, Stats{}, err
	}
	if err := checkGraph(g); err != nil {
		return nil, Stats{}, err
	}
	if len(targets) == 0 {
		return nil, Stats{}, valueErrorf("no target nodes")
	}
	n := int64(g.NumNodes)
	for i, s := range targets {
		if s < 0 || s >= n {
			return nil, Stats{}, indexErrorf("target node %d (at position %d) is out of range for %d nodes", s, i, n)
		}
	}
	return run(ctx, g, teleports{nodes: targets}, opt)
}
