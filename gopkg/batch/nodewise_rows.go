package batch

import (
	"context"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

// fullRowBudget bounds the bytes of whole (untruncated) PPR rows that
// topKAndPairs holds at once: it computes the rows in chunks of outputs
// sized to fit, keeping only each row's top k and its affinity entries.
const fullRowBudget = 256 << 20

// Chunk sizes, in outputs, between which topKAndPairs adapts.
const (
	minRowChunk = 1 << 10
	maxRowChunk = 1 << 16
)

// topKAndPairs runs steps 1 and 2 of NodeWise: it computes the whole
// eps-truncated PPR row of every distinct output (ascending), keeps the top
// opt.NumAuxNodes entries of each in the returned Result and returns the
// affinity pairs of the outputs over the whole rows, sorted as
// affinityPairs sorts them. Errors are those of ppr.NodeWiseContext (a
// cancelled ctx included).
func topKAndPairs(ctx context.Context, g *graph.CSR, distinct []int64, opt NodeWiseOptions) (*ppr.Result, []pair, error) {
	n := len(distinct)
	pos := make([]int32, g.NumNodes)
	for i := range pos {
		pos[i] = -1
	}
	for i, v := range distinct {
		pos[v] = int32(i)
	}
	k := opt.NumAuxNodes
	top := &ppr.Result{Indptr: make([]int64, n+1)}
	var pairs []pair
	var entries int64
	chunk := min(n, minRowChunk)
	for lo := 0; lo < n; {
		if err := ctx.Err(); err != nil {
			return nil, nil, canceled(ctx)
		}
		hi := min(n, lo+chunk)
		po := ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, Workers: opt.Workers}
		if opt.Progress != nil {
			base := lo
			po.Progress = func(done, _ int) { opt.Progress(base+done, n) }
		}
		res, _, err := ppr.NodeWiseContext(ctx, g, distinct[lo:hi], po)
		if err != nil {
			return nil, nil, err
		}
		for r := range hi - lo {
			nodes, scores := res.Row(r)
			i := lo + r
			pairs = appendPairs(pairs, i, nodes, scores, pos)
			m := min(k, len(nodes)) // rows are sorted: the top k are a prefix
			top.Nodes = append(top.Nodes, nodes[:m]...)
			top.Scores = append(top.Scores, scores[:m]...)
			top.Indptr[i+1] = int64(len(top.Nodes))
		}
		entries += int64(len(res.Nodes))
		lo = hi
		// The next chunk holds about fullRowBudget bytes of rows (8 bytes
		// an entry) at the mean row length seen so far.
		mean := max(1, entries/int64(lo))
		chunk = int(min(max(fullRowBudget/(8*mean), minRowChunk), maxRowChunk))
	}
	pairs, ok := combinePairs(pairs, opt.Workers, ctx.Done())
	if !ok || ctx.Err() != nil {
		return nil, nil, canceled(ctx)
	}
	return top, pairs, nil
}
