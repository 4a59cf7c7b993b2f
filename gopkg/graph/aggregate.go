package graph

import (
	"context"
	"runtime"
	"unsafe"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// aggregateRows is the number of rows one task of Aggregate covers; tasks are
// claimed dynamically, which balances rows of very different degrees.
const aggregateRows = 256

// Aggregate computes hops rounds of neighbourhood aggregation of the
// float32 node features x (NumNodes rows of dim values, row-major) and
// writes the result to out (same shape):
//
//	y = Â·x,  Â the adjacency with per-edge weights g.Normalized(norm),
//	y[u] = Σ_{e in row u} w_e · x[Indices[e]]
//
// applied hops times (Â^hops·x). This is the aggregation of a GCN layer
// (with NormSym on a graph with self-loops, PyTorch Geometric's gcn_norm on
// an undirected graph) done once for the whole graph, so a model may feed
// Â·x to its first layer instead of aggregating per batch (BatchGNN's cached
// aggregated features).
//
// Each output element is summed in float32 over the row's edges in CSR
// order. Rows are split into tasks of 256 rows claimed by up to workers
// goroutines (GOMAXPROCS when workers <= 0); the result does not depend on
// the split. out must not overlap x. For hops > 1 a scratch buffer of the
// same size is allocated (checked against the memory available first). The
// call checks ctx between tasks and returns ctx's error, with out partly
// written, when it is cancelled; progress, when not nil, is told the rows
// done out of NumNodes*hops.
//
// Errors wrap ErrValue (dim < 1, hops < 1, wrong lengths, overlapping
// buffers, an unknown norm, a malformed CSR), ErrIndex (a column id out of
// range) or memlimit.ErrMemory.
func (g *CSR) Aggregate(ctx context.Context, out, x []float32, dim int, norm Norm, hops, workers int,
	progress func(done, total int)) error {
	if dim < 1 || hops < 1 {
		return valueErrorf("aggregate: dim = %d and hops = %d must be >= 1", dim, hops)
	}
	if err := g.checkShape(); err != nil {
		return err
	}
	n := g.NumNodes
	if n > 0 && dim > len(x)/n || len(x) != n*dim || len(out) != n*dim {
		return valueErrorf("aggregate: x and out must hold %d nodes x %d values, got %d and %d", n, dim, len(x), len(out))
	}
	if n == 0 {
		return nil
	}
	if p, q := uintptr(unsafe.Pointer(&out[0])), uintptr(unsafe.Pointer(&x[0])); p < q+uintptr(4*len(x)) && q < p+uintptr(4*len(out)) {
		return valueErrorf("aggregate: out overlaps x")
	}
	for _, c := range g.Indices {
		if c < 0 || int(c) >= n {
			return indexErrorf("aggregate: column id %d out of range for %d nodes", c, n)
		}
	}
	w, err := g.Normalized(norm)
	if err != nil {
		return err
	}
	var tmp []float32
	if hops > 1 {
		if err := memlimit.CheckN("aggregate: scratch features", int64(n)*int64(dim), 4); err != nil {
			return err
		}
		tmp = make([]float32, n*dim)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	tasks := (n + aggregateRows - 1) / aggregateRows
	src := x
	for h := 0; h < hops; h++ {
		dst := out
		if (hops-1-h)%2 == 1 {
			dst = tmp
		}
		parallelTasks(tasks, workers, func(t int) {
			if ctx.Err() != nil {
				return
			}
			lo, hi := t*aggregateRows, min((t+1)*aggregateRows, n)
			spmmRows(g, w, dst, src, dim, lo, hi)
			if progress != nil {
				progress(h*n+hi, hops*n) // approximate while tasks finish out of order
			}
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		src = dst
	}
	return nil
}

// spmmRows writes rows [lo, hi) of dst = Â·src. Invariant: after row u,
// dst[u] is the float32 sum, in CSR order, of w_e·src[Indices[e]] over row
// u's edges (all zeros for a row without edges).
func spmmRows(g *CSR, w, dst, src []float32, dim, lo, hi int) {
	for u := lo; u < hi; u++ {
		o := dst[u*dim : (u+1)*dim : (u+1)*dim]
		clear(o)
		for e := g.Indptr[u]; e < g.Indptr[u+1]; e++ {
			wv := w[e]
			r := src[int(g.Indices[e])*dim:]
			r = r[:len(o)]
			for k := range o {
				o[k] += wv * r[k]
			}
		}
	}
}
