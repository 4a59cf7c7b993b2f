package bindings

import (
	"context"
	"unsafe"

	_ "github.com/ibmb-dev/ibmb/gopkg/ppr/pprcuda" // registers the CUDA push with gopkg/ppr

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

// pprOut is the result of a PPR job.
type pprOut struct {
	res   *ppr.Result
	stats ppr.Stats
}

// pprOptions builds the push options; order is 0 (FIFO) or 1 (LIFO, PyG's),
// device -1 for the CPU or a CUDA device ordinal.
func pprOptions(alpha, eps float64, topk, workers, order, device int) ppr.Options {
	return ppr.Options{Alpha: alpha, Eps: eps, TopK: topk, Workers: workers, Order: ppr.Order(order),
		Device: ppr.Device{CUDA: device >= 0, Ordinal: max(device, 0)}}
}

// PPRCheckParams returns a value error unless alpha and eps are admissible
// push parameters: alpha in (0, 1), eps positive and finite, and the work
// bound 1/(alpha·eps) neighbour updates per vector at most ppr.MaxWork. It
// is the one rule behind every PPR entry point; Python checks arguments
// with it before starting a job.
func PPRCheckParams(alpha, eps float64) (err error) {
	defer guard(&err)
	return ppr.CheckParams(alpha, eps)
}

// pushInputs returns graph gh and a copy of the n int64 node ids at ids
// after checking the push parameters (see PPRCheckParams): the common start
// of every entry point that pushes.
func pushInputs(gh int, alpha, eps float64, ids uintptr, n int) (*graph.CSR, []int64, error) {
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return nil, nil, err
	}
	if err := ppr.CheckParams(alpha, eps); err != nil {
		return nil, nil, err
	}
	v, err := int64sCopy(ids, n)
	return g, v, err
}

// startPPR starts the job of a PPR entry point: push computes the vectors
// with the options the arguments give.
func startPPR(alpha, eps float64, topk, workers, order, device int,
	push func(context.Context, ppr.Options) (*ppr.Result, ppr.Stats, error)) int {
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		opt := pprOptions(alpha, eps, topk, workers, order, device)
		opt.Progress = progress
		res, st, err := push(ctx, opt)
		return pprOut{res, st}, err
	})
}

// PPRNodeWise starts a node-wise top-k PPR job on graph gh for the n int64
// target ids at targets (copied before the call returns) and returns the
// job's handle: poll it with JobPoll, wait with JobWait, read it with
// PPRShape and PPRCopy, release it with Free. topk <= 0 keeps every entry;
// workers 0 uses every core; order 0 is FIFO and 1 LIFO; device -1 is the
// CPU, else a CUDA device ordinal. Inadmissible alpha and eps are reported
// at once (see PPRCheckParams); cancelling the job (JobCancel, Free) stops
// the push within milliseconds.
func PPRNodeWise(gh int, targets uintptr, n int, alpha, eps float64, topk, workers, order, device int) (h int, err error) {
	defer guard(&err)
	g, t, err := pushInputs(gh, alpha, eps, targets, n)
	if err != nil {
		return 0, err
	}
	return startPPR(alpha, eps, topk, workers, order, device, func(ctx context.Context, opt ppr.Options) (*ppr.Result, ppr.Stats, error) {
		return ppr.NodeWiseContext(ctx, g, t, opt)
	}), nil
}

// PPRSetWise starts a topic-sensitive PPR job on graph gh: one vector per set
// of target nodes, teleporting uniformly over the set. The sets are in CSR
// form: numSets+1 int64 offsets at setPtr into numNodes int64 ids at
// setNodes (both copied). Otherwise as PPRNodeWise.
func PPRSetWise(gh int, setPtr uintptr, numSets int, setNodes uintptr, numNodes int, alpha, eps float64, topk, workers, order, device int) (h int, err error) {
	defer guard(&err)
	g, sn, err := pushInputs(gh, alpha, eps, setNodes, numNodes)
	if err != nil {
		return 0, err
	}
	sp, err := int64sCopy(setPtr, numSets+1)
	if err != nil {
		return 0, err
	}
	return startPPR(alpha, eps, topk, workers, order, device, func(ctx context.Context, opt ppr.Options) (*ppr.Result, ppr.Stats, error) {
		return ppr.SetWiseContext(ctx, g, sp, sn, opt)
	}), nil
}

// PPRShape writes the shape of finished PPR job h as four int64 at out: rows
// (targets or sets), stored entries, node pushes and edge pushes.
func PPRShape(h int, out uintptr) (err error) {
	defer guard(&err)
	r, err := jobResult[pprOut](h)
	if err != nil {
		return err
	}
	return putInts(out, int64(r.res.NumRows()), int64(len(r.res.Nodes)), r.stats.Pushes, r.stats.EdgePushes)
}

// PPRCopy copies finished PPR job h into Python buffers: rows+1 int64 row
// offsets at indptr, and, when the result has entries, that many int64 node
// ids at nodes and float32 scores at scores. Rows are in target order, each
// sorted by descending score (ties by ascending node id).
func PPRCopy(h int, indptr, nodes, scores uintptr) (err error) {
	defer guard(&err)
	r, ip, err := withInts(jobResult[pprOut], h, indptr, func(r pprOut) int { return len(r.res.Indptr) })
	if err != nil {
		return err
	}
	copy(ip, r.res.Indptr)
	nnz := len(r.res.Nodes)
	if nnz == 0 {
		return nil
	}
	nd, err := int64s(nodes, nnz)
	if err != nil {
		return err
	}
	for i, v := range r.res.Nodes {
		nd[i] = int64(v)
	}
	if scores == 0 {
		return argErr("scores buffer is null")
	}
	copy(unsafe.Slice((*float32)(ptr(scores)), nnz), r.res.Scores)
	return nil
}
