package batch

import (
	"context"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

// NodeWiseOptions controls NodeWise.
type NodeWiseOptions struct {
	// NumAuxNodes is the number k of top PPR nodes kept per output node,
	// at least 1; the output node itself is always one of them.
	NumAuxNodes int

	// MaxOutputsPerBatch caps the number of output nodes of a batch, at
	// least 1.
	MaxOutputsPerBatch int

	// Alpha and Eps are the teleport probability and push threshold of
	// the PPR computation (see ppr.Options); IBMB uses Alpha 0.25 and Eps
	// around 1e-4 to 2e-4.
	Alpha, Eps float64

	// Workers is the number of goroutines; 0 means GOMAXPROCS. It never
	// changes the result.
	Workers int

	// Progress, if not nil, reports the PPR computation as ppr.Options'
	// Progress does (done and total count PPR vectors).
	Progress func(done, total int)
}

// NodeWise builds node-wise IBMB batches for the given output nodes, which
// may come in any order and contain repeats (only the set matters):
//
//  1. The distinct outputs o_0 < o_1 < … are computed, and ppr.NodeWise
//     gives the top-k PPR nodes of each, k = opt.NumAuxNodes.
//  2. The affinity of outputs i and j is score_i(o_j) + score_j(o_i), where
//     score_i(v) is v's score in i's top-k row, or 0 when absent; only
//     pairs in which one output is in the other's row have an affinity.
//  3. Starting from singletons, clusters are merged along the pairs in
//     order of descending affinity (ties by ascending (i, j)), two
//     clusters only when the merged one has at most MaxOutputsPerBatch
//     outputs.
//  4. The two smallest clusters (ties by smallest output) are then merged
//     repeatedly while their total is at most MaxOutputsPerBatch.
//  5. Each cluster becomes a batch whose nodes are its outputs together
//     with the top-k rows of its outputs; batches are ordered by their
//     smallest output id.
//
// The result depends only on g, the set of outputs and the options other
// than Workers and Progress. Errors wrap graph.ErrValue for a nil or invalid
// graph, no outputs, NumAuxNodes or MaxOutputsPerBatch below 1, negative
// Workers and bad Alpha or Eps, and graph.ErrIndex for an output id out of
// range.
func NodeWise(g *graph.CSR, outputs []int64, opt NodeWiseOptions) (*Batches, error) {
	return NodeWiseContext(context.Background(), g, outputs, opt)
}

// NodeWiseContext is NodeWise stopping early when ctx is cancelled: the PPR
// computation, the clustering (its sorts and merges) and the per-batch
// unions all look at ctx after a bounded amount of work, so the call
// returns within milliseconds, its goroutines finished, with an error
// wrapping ctx.Err() and no batches (also when the cancellation comes
// during its last steps). A call that is not cancelled returns exactly what
// NodeWise returns.
func NodeWiseContext(ctx context.Context, g *graph.CSR, outputs []int64, opt NodeWiseOptions) (*Batches, error) {
	if opt.NumAuxNodes < 1 {
		return nil, valueErrorf("num_aux_nodes must be at least 1, got %d", opt.NumAuxNodes)
	}
	if opt.MaxOutputsPerBatch < 1 {
		return nil, valueErrorf("max_outputs_per_batch must be at least 1, got %d", opt.MaxOutputsPerBatch)
	}
	distinct, err := checkGraphOutputs(g, outputs, opt.Workers)
	if err != nil {
		return nil, err
	}
	res, _, err := ppr.NodeWiseContext(ctx, g, distinct, ppr.Options{
		Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.NumAuxNodes,
		Workers: opt.Workers, Progress: opt.Progress,
	})
	if err != nil {
		return nil, err
	}
	b, ok := nodeWiseFromPPR(g.NumNodes, distinct, res, opt.MaxOutputsPerBatch, opt.Workers, ctx.Done())
	if !ok || ctx.Err() != nil {
		return nil, canceled(ctx)
	}
	return b, nil
}

// nodeWiseFromPPR runs steps 2–5 of NodeWise on the top-k rows res of the
// distinct, ascending outputs. It returns ok == false once stop (nil:
// never) is closed.
func nodeWiseFromPPR(numNodes int, distinct []int64, res *ppr.Result, maxOut, workers int, stop <-chan struct{}) (_ *Batches, ok bool) {
	n := len(distinct)
	pos := make([]int32, numNodes)
	for i := range pos {
		pos[i] = -1
	}
	for i, v := range distinct {
		pos[v] = int32(i)
	}
	pairs, ok := affinityPairs(n, res.Row, pos, workers, stop)
	if !ok {
		return nil, false
	}
	uf := newUnionFind(n)
	if !uf.mergeGreedy(pairs, maxOut, stop) || !uf.mergeSmallest(maxOut, stop) {
		return nil, false
	}
	groups := uf.groups()

	outs := make([][]int64, len(groups))
	nodes := make([][]int64, len(groups))
	nw := numWorkers(workers, len(groups))
	builders := make([]*unionBuilder, nw)
	for w := range builders {
		builders[w] = newUnionBuilder(numNodes)
	}
	if !parallelForStop(len(groups), nw, stop, func(w, b int) {
		u := builders[w]
		u.reset()
		out := make([]int64, len(groups[b]))
		for j, i := range groups[b] {
			out[j] = distinct[i]
			u.add(distinct[i])
			row, _ := res.Row(int(i))
			for _, v := range row {
				u.add(int64(v))
			}
		}
		outs[b] = out
		nodes[b] = u.sorted()
	}) {
		return nil, false
	}
	return assemble(outs, nodes), true
}
