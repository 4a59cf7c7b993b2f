package bindings

import (
	"context"
	"unsafe"
)

// AggregateJob starts a job computing hops rounds of aggregation
// out = Â^hops·x on graph gh (gopkg/graph CSR.Aggregate): x and out are
// numNodes x dim float32 row-major matrices; norm is "sym", "rw" or "none";
// workers <= 0 uses all threads. x is read and out written while the job
// runs: the caller keeps both alive until it has finished (JobWait).
func AggregateJob(gh int, x uintptr, numNodes, dim int, out uintptr, norm string, hops, workers int) (h int, err error) {
	defer guard(&err)
	g, nm, err := normedGraph(gh, norm)
	if err != nil {
		return 0, err
	}
	if numNodes != g.NumNodes {
		return 0, argErr("x has %d rows but the graph has %d nodes", numNodes, g.NumNodes)
	}
	if dim < 1 || hops < 1 {
		return 0, argErr("dim = %d and hops = %d must be >= 1", dim, hops)
	}
	if numNodes > 0 && dim > maxElems/numNodes {
		return 0, argErr("%d x %d features are too many", numNodes, dim)
	}
	xs, err := float32s(x, numNodes*dim)
	if err != nil {
		return 0, err
	}
	os, err := float32s(out, numNodes*dim)
	if err != nil {
		return 0, err
	}
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		return nil, g.Aggregate(ctx, os, xs, dim, nm, hops, workers, progress)
	}), nil
}

// float32s views n float32 values at p (nil when n is 0).
func float32s(p uintptr, n int) ([]float32, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || n > maxElems || p == 0 || p%4 != 0 {
		return nil, argErr("bad float32 buffer: pointer %#x, length %d", p, n)
	}
	return unsafe.Slice((*float32)(ptr(p)), n), nil
}
