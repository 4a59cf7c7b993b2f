package batch

import (
	"context"
	"math"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

// MaxEpsRefinements bounds how often BatchWise divides Eps by 10 for the
// parts whose PPR vector came back with fewer than k nodes although more
// are reachable.
const MaxEpsRefinements = 3

// BatchWiseOptions controls BatchWise.
type BatchWiseOptions struct {
	// ExpandRatio sets the number of auxiliary nodes per batch,
	// k = ceil(ExpandRatio·NumNodes/numParts) (at most NumNodes); it must
	// be positive and not NaN.
	ExpandRatio float64

	// Alpha and Eps are the teleport probability and the initial push
	// threshold of the topic-sensitive PPR (see ppr.Options). Eps is
	// lowered automatically for the parts that need it; see BatchWise.
	Alpha, Eps float64

	// Workers is the number of goroutines; 0 means GOMAXPROCS. It never
	// changes the result.
	Workers int

	// Progress, if not nil, reports the first PPR pass as ppr.Options'
	// Progress does (done and total count parts with output nodes).
	Progress func(done, total int)
}

// BatchWise builds batch-wise IBMB batches from a partition of the graph:
// parts[v] in [0, numParts) is the part of node v (typically from a graph
// partitioner). Each part that holds at least one of the output nodes
// (which may be unsorted and repeat) gives one batch, in ascending part
// order; parts without output nodes are skipped. The batch's output nodes
// are the part's distinct output nodes, and its nodes are those outputs
// together with the k nodes of largest topic-sensitive PPR score for the
// teleport set of its outputs (ppr.SetWise), k = ceil(ExpandRatio·N/numParts).
//
// Eps handling: the push only reports nodes whose estimate became positive,
// and with a coarse Eps a set's vector may have fewer than k of them
// (the reference IBMB runs 50 power iterations instead, which reaches every
// node within 50 hops). After the pass with opt.Eps, every part whose row
// has fewer than k nodes while more than that many nodes are reachable from
// its outputs (checked by a breadth-first search along out-edges that stops
// after row length + 1 nodes) is recomputed with Eps/10, and so on, at most
// MaxEpsRefinements times (down to Eps/1000). Each refinement costs up to
// ten times as much per part as the pass before, but touches only the
// parts that came back short. Eps is never lowered below what the push
// admits (ppr.CheckParams: alpha·eps ≥ 1/ppr.MaxWork); refinement stops
// there. A part whose reachable region has fewer than
// k nodes simply gets fewer auxiliary nodes; so does one still short
// after the last refinement.
//
// The result depends only on the inputs and the options other than Workers
// and Progress. Errors wrap graph.ErrValue for a nil or invalid graph, no
// outputs, len(parts) ≠ NumNodes, numParts < 1 or > NumNodes, a non-positive, NaN or
// infinite ExpandRatio, negative Workers and bad Alpha or Eps, and
// graph.ErrIndex for an output id or a part id out of range.
func BatchWise(g *graph.CSR, outputs []int64, parts []int32, numParts int, opt BatchWiseOptions) (*Batches, error) {
	return BatchWiseContext(context.Background(), g, outputs, parts, numParts, opt)
}

// BatchWiseContext is BatchWise stopping early when ctx is cancelled: the
// PPR passes, the reachability checks and the per-batch unions all look at
// ctx after a bounded amount of work, so the call returns within
// milliseconds, its goroutines finished, with an error wrapping ctx.Err()
// and no batches (also when the cancellation comes during its last steps).
// A call that is not cancelled returns exactly what BatchWise returns.
func BatchWiseContext(ctx context.Context, g *graph.CSR, outputs []int64, parts []int32, numParts int, opt BatchWiseOptions) (*Batches, error) {
	if numParts < 1 {
		return nil, valueErrorf("num_parts must be at least 1, got %d", numParts)
	}
	if !(opt.ExpandRatio > 0) || math.IsInf(opt.ExpandRatio, 0) {
		return nil, valueErrorf("expand_ratio must be positive and finite, got %v", opt.ExpandRatio)
	}
	distinct, err := checkGraphOutputs(g, outputs, opt.Workers)
	if err != nil {
		return nil, err
	}
	if len(parts) != g.NumNodes {
		return nil, valueErrorf("%d part ids for %d nodes", len(parts), g.NumNodes)
	}
	for v, p := range parts {
		if p < 0 || int(p) >= numParts {
			return nil, indexErrorf("node %d has part %d out of range [0, %d)", v, p, numParts)
		}
	}
	n := g.NumNodes
	if numParts > n {
		// The part counts below are numParts long; more parts than nodes
		// cannot all be used and would only size them (2^33 parts: 64 GiB).
		return nil, valueErrorf("num_parts %d exceeds the %d nodes of the graph", numParts, n)
	}
	kf := math.Ceil(opt.ExpandRatio * float64(n) / float64(numParts))
	k := n
	if kf < float64(n) {
		k = max(1, int(kf))
	}

	// Group the distinct outputs by part (counting sort, stable, so every
	// group stays ascending) and drop empty parts.
	count := make([]int64, numParts+1)
	for _, v := range distinct {
		count[parts[v]+1]++
	}
	for p := range numParts {
		count[p+1] += count[p]
	}
	setNodes := make([]int64, len(distinct))
	fill := append([]int64(nil), count[:numParts]...)
	for _, v := range distinct {
		p := parts[v]
		setNodes[fill[p]] = v
		fill[p]++
	}
	setPtr := []int64{0}
	for p := range numParts {
		if count[p+1] > count[p] {
			setPtr = append(setPtr, count[p+1])
		}
	}
	numSets := len(setPtr) - 1

	popt := ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: k, Workers: opt.Workers, Progress: opt.Progress}
	res, _, err := ppr.SetWiseContext(ctx, g, setPtr, setNodes, popt)
	if err != nil {
		return nil, err
	}
	rows := make([][]int32, numSets)
	for i := range rows {
		rows[i], _ = res.Row(i)
	}

	// Refine the sets that came back short.
	nw := numWorkers(opt.Workers, numSets)
	builders := make([]*unionBuilder, nw)
	for w := range builders {
		builders[w] = newUnionBuilder(n)
	}
	eps := opt.Eps
	stop := ctx.Done()
	for range MaxEpsRefinements {
		if ppr.CheckParams(opt.Alpha, eps/10) != nil {
			break // the work bound of the push: no finer eps is admitted
		}
		short := make([]bool, numSets)
		if !parallelForStop(numSets, nw, stop, func(w, i int) {
			if len(rows[i]) < k {
				want := len(rows[i]) + 1
				short[i] = reachAtLeast(g, setNodes[setPtr[i]:setPtr[i+1]], want, builders[w])
			}
		}) {
			return nil, canceled(ctx)
		}
		var rPtr, rNodes []int64
		var which []int
		rPtr = append(rPtr, 0)
		for i, s := range short {
			if s {
				rNodes = append(rNodes, setNodes[setPtr[i]:setPtr[i+1]]...)
				rPtr = append(rPtr, int64(len(rNodes)))
				which = append(which, i)
			}
		}
		if len(which) == 0 {
			break
		}
		eps /= 10
		popt.Eps, popt.Progress = eps, nil
		rres, _, err := ppr.SetWiseContext(ctx, g, rPtr, rNodes, popt)
		if err != nil {
			return nil, err
		}
		for j, i := range which {
			rows[i], _ = rres.Row(j)
		}
	}

	outs := make([][]int64, numSets)
	nodes := make([][]int64, numSets)
	if !parallelForStop(numSets, nw, stop, func(w, i int) {
		u := builders[w]
		u.reset()
		out := setNodes[setPtr[i]:setPtr[i+1]]
		for _, v := range out {
			u.add(v)
		}
		for _, v := range rows[i] {
			u.add(int64(v))
		}
		outs[i] = out
		nodes[i] = u.sorted()
	}) {
		return nil, canceled(ctx)
	}
	b := assemble(outs, nodes)
	if ctx.Err() != nil {
		return nil, canceled(ctx)
	}
	return b, nil
}

// reachAtLeast reports whether at least want nodes are reachable from the
// set (the set included) along the out-edges of g, by a breadth-first
// search that stops as soon as it has seen want nodes.
func reachAtLeast(g *graph.CSR, set []int64, want int, u *unionBuilder) bool {
	u.reset()
	for _, v := range set {
		u.add(v)
	}
	for head := 0; head < len(u.buf) && len(u.buf) < want; head++ {
		for _, v := range g.Row(int(u.buf[head])) {
			u.add(int64(v))
			if len(u.buf) >= want {
				break
			}
		}
	}
	return len(u.buf) >= want
}
