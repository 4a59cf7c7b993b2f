package bindings

import (
	"context"
	"slices"
	"unsafe"

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
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return 0, err
	}
	if err := ppr.CheckParams(alpha, eps); err != nil {
		return 0, err
	}
	t, err := int64s(targets, n)
	if err != nil {
		return 0, err
	}
	t = slices.Clone(t)
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		opt := pprOptions(alpha, eps, topk, workers, order, device)
		opt.Progress = progress
		res, st, err := ppr.NodeWiseContext(ctx, g, t, opt)
		return pprOut{res, st}, err
	}), nil
}

// PPRSetWise starts a topic-sensitive PPR job on graph gh: one vector per set
// of target nodes, teleporting uniformly over the set. The sets are in CSR
// form: numSets+1 int64 offsets at setPtr into numNodes int64 ids at
// setNodes (both copied). Otherwise as PPRNodeWise.
func PPRSetWise(gh int, setPtr uintptr, numSets int, setNodes uintptr, numNodes int, alpha, eps float64, topk, workers, order, device int) (h int, err error) {
	defer guard(&err)
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return 0, err
	}
	if err := ppr.CheckParams(alpha, eps); err != nil {
		return 0, err
	}
	sp, err := int64s(setPtr, numSets+1)
	if err != nil {
		return 0, err
	}
	sn, err := int64s(setNodes, numNodes)
	if err != nil {
		return 0, err
	}
	sp, sn = slices.Clone(sp), slices.Clone(sn)
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		opt := pprOptions(alpha, eps, topk, workers, order, device)
		opt.Progress = progress
		res, st, err := ppr.SetWiseContext(ctx, g, sp, sn, opt)
		return pprOut{res, st}, err
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
	o, err := int64s(out, 4)
	if err != nil {
		return err
	}
	o[0], o[1], o[2], o[3] = int64(r.res.NumRows()), int64(len(r.res.Nodes)), r.stats.Pushes, r.stats.EdgePushes
	return nil
}

// PPRCopy copies finished PPR job h into Python buffers: rows+1 int64 row
// offsets at indptr, and, when the result has entries, that many int64 node
// ids at nodes and float32 scores at scores. Rows are in target order, each
// sorted by descending score (ties by ascending node id).
func PPRCopy(h int, indptr, nodes, scores uintptr) (err error) {
	defer guard(&err)
	r, err := jobResult[pprOut](h)
	if err != nil {
		return err
	}
	ip, err := int64s(indptr, len(r.res.Indptr))
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
