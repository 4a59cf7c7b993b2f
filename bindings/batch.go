package bindings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/partition"
)

// BatchNodeWise starts a node-wise IBMB job on graph gh for the n int64
// output node ids at outputs (copied): top-numAux PPR nodes per output, outputs
// merged into batches of at most maxOut outputs. Returns a job handle; read
// the batches with BatchesShape and BatchesCopy. Inadmissible alpha and eps
// are reported at once (see PPRCheckParams); cancelling the job stops it
// within milliseconds.
func BatchNodeWise(gh int, outputs uintptr, n, numAux, maxOut int, alpha, eps float64, workers int) (h int, err error) {
	defer guard(&err)
	g, out, err := pushInputs(gh, alpha, eps, outputs, n)
	if err != nil {
		return 0, err
	}
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		return batch.NodeWiseContext(ctx, g, out, batch.NodeWiseOptions{NumAuxNodes: numAux, MaxOutputsPerBatch: maxOut,
			Alpha: alpha, Eps: eps, Workers: workers, Progress: progress})
	}), nil
}

// BatchBatchWise starts a batch-wise IBMB job on graph gh: the n output
// nodes at outputs, the part of every node as NumNodes int64 at parts (in
// [0, numParts)), and ceil(expand·NumNodes/numParts) auxiliary nodes per
// part from topic-sensitive PPR. Returns a job handle, as BatchNodeWise.
func BatchBatchWise(gh int, outputs uintptr, n int, parts uintptr, numParts int, expand, alpha, eps float64, workers int) (h int, err error) {
	defer guard(&err)
	g, out, err := pushInputs(gh, alpha, eps, outputs, n)
	if err != nil {
		return 0, err
	}
	p64, err := int64s(parts, g.NumNodes)
	if err != nil {
		return 0, err
	}
	p := make([]int32, len(p64))
	for i, v := range p64 {
		if v < -1<<31 || v >= 1<<31 {
			return 0, argErr("part id %d of node %d does not fit in int32", v, i)
		}
		p[i] = int32(v)
	}
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		return batch.BatchWiseContext(ctx, g, out, p, numParts, batch.BatchWiseOptions{ExpandRatio: expand,
			Alpha: alpha, Eps: eps, Workers: workers, Progress: progress})
	}), nil
}

// BatchesShape writes the batch count, the number of output entries and
// the number of node entries of the finished batching job h as three int64
// at out.
func BatchesShape(h int, out uintptr) (err error) {
	defer guard(&err)
	b, err := jobResult[*batch.Batches](h)
	if err != nil {
		return err
	}
	return putInts(out, int64(b.NumBatches()), int64(len(b.Out)), int64(len(b.Nodes)))
}

// BatchesCopy copies the batches of finished job h in CSR form into Python
// buffers (int64 each): outPtr and nodePtr get NumBatches+1 entries, out and
// nodes the entries BatchesShape reports.
func BatchesCopy(h int, outPtr, out, nodePtr, nodes uintptr) (err error) {
	defer guard(&err)
	b, err := jobResult[*batch.Batches](h)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		dst uintptr
		src []int64
	}{{outPtr, b.OutPtr}, {out, b.Out}, {nodePtr, b.NodePtr}, {nodes, b.Nodes}} {
		d, err := int64s(c.dst, len(c.src))
		if err != nil {
			return err
		}
		copy(d, c.src)
	}
	return nil
}

// ArenaBuildJob starts a job that materializes nb batches of graph gh into
// a new arena and returns the job's handle; after JobWait, ArenaFromJob
// gives the arena. The batches come in CSR form (int64 buffers, all read
// before this returns and copied): nodePtr/outPtr with nb+1 entries, nodes
// (numNodes entries, sorted per batch) and out (numOut entries, a sorted
// subset per batch). norm is a name of Norms. labels (NumNodes int64,
// copied) and x (NumNodes rows of rowBytes bytes, dtype a code of
// ArenaDTypes) may be 0 to leave them out; x is read while the job
// runs, so it must stay alive until JobWait returns. params is stored as
// text in the header. path, if not empty, builds the arena directly into
// that file (batch.ArenaOptions.Path: written as it is built, then renamed
// into place; the arena maps the file) instead of memory. The batch description is checked before the job
// starts; the job checks for cancellation before every batch and reports
// progress in batches (two passes).
func ArenaBuildJob(gh int, nodePtr, nodes, outPtr, out uintptr, nb, numNodes, numOut int, norm string,
	labels, x uintptr, rowBytes, dtype int, params, path string) (h int, err error) {
	defer guard(&err)
	return arenaBuildJob(gh, nil, nodePtr, nodes, outPtr, out, nb, numNodes, numOut, norm, labels, x, rowBytes, dtype, params, path)
}

// ArenaBuildHaloJob is ArenaBuildJob for halo batches: every batch gets the
// one-hop halo of its nodes over the in-edge graph hgh (GraphHalo of gh),
// listed after them, and the in-edges of its nodes with hgh's weights
// (batch.ArenaOptions.Halo); norm must be "none".
func ArenaBuildHaloJob(gh, hgh int, nodePtr, nodes, outPtr, out uintptr, nb, numNodes, numOut int, norm string,
	labels, x uintptr, rowBytes, dtype int, params, path string) (h int, err error) {
	defer guard(&err)
	hg, err := get[*graph.CSR](hgh)
	if err != nil {
		return 0, err
	}
	return arenaBuildJob(gh, hg, nodePtr, nodes, outPtr, out, nb, numNodes, numOut, norm, labels, x, rowBytes, dtype, params, path)
}

func arenaBuildJob(gh int, halo *graph.CSR, nodePtr, nodes, outPtr, out uintptr, nb, numNodes, numOut int, norm string,
	labels, x uintptr, rowBytes, dtype int, params, path string) (h int, err error) {
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return 0, err
	}
	if nb < 0 {
		return 0, argErr("negative number of batches %d", nb)
	}
	var np, op, ns, os []int64
	if err := viewAll(at(&np, nodePtr, nb+1), at(&op, outPtr, nb+1), at(&ns, nodes, numNodes), at(&os, out, numOut)); err != nil {
		return 0, err
	}
	nm, err := graph.ParseNorm(norm)
	if err != nil {
		return 0, err
	}
	opt := batch.ArenaOptions{Norm: nm, Params: params, Halo: halo, Path: path}
	if labels != 0 {
		if opt.Labels, err = int64s(labels, g.NumNodes); err != nil {
			return 0, err
		}
	}
	if x != 0 {
		if rowBytes <= 0 {
			return 0, argErr("feature rows of %d bytes", rowBytes)
		}
		if _, err := mulLen("features", g.NumNodes, rowBytes); err != nil {
			return 0, err
		}
		opt.X, opt.RowBytes, opt.DType = ptr(x), int64(rowBytes), batch.DType(dtype)
	}
	// Check the description now, so that a bad one is an error of this call
	// (and Python's buffers need not outlive it), then copy it for the job.
	if err := batch.CheckArenaInputs(g, np, ns, op, os, opt); err != nil {
		return 0, err
	}
	np, ns, op, os, opt.Labels = slices.Clone(np), slices.Clone(ns), slices.Clone(op), slices.Clone(os), slices.Clone(opt.Labels)
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		opt.Progress = progress
		a, err := batch.BuildArenaContext(ctx, g, np, ns, op, os, opt)
		var errno syscall.Errno
		if err != nil && path != "" && errors.As(err, &errno) {
			err = fileErr(err) // the file's errors carry their errno to Python's OSError
		}
		if err != nil {
			// Not a typed nil: the job's Close would call (*Arena)(nil).Close.
			return nil, err
		}
		return a, nil
	}), nil
}

// ArenaFromJob moves the arena built by finished job j (ArenaBuildJob) into
// a handle of its own and returns it; the job no longer holds it, so
// Free(j) leaves the arena alive. It returns the job's error if the build
// failed or was cancelled.
func ArenaFromJob(j int) (h int, err error) {
	defer guard(&err)
	a, err := jobResult[*batch.Arena](j)
	if err != nil {
		return 0, err
	}
	jb, err := get[*job](j)
	if err != nil {
		return 0, err
	}
	// Under the handles lock, so that a later Free(j), which takes the lock
	// too, sees the result gone and does not close the arena.
	handles.Lock()
	if jb.result != a {
		handles.Unlock()
		return 0, fmt.Errorf("%w: the arena of job %d was taken already", errArg, j)
	}
	jb.result = nil
	handles.Unlock()
	return put(a), nil
}

// arenaInfoFields names the values ArenaInfo writes, in order: the one
// place that fixes them; Python reads the names with ArenaInfoFields and
// unpacks by name. Section offsets are from "address"; a size of 0 means
// the section is absent.
var arenaInfoFields = func() []arenaField {
	f := []arenaField{
		{"num_batches", func(a *batch.Arena) int64 { return int64(a.NumBatches()) }},
		{"num_nodes", func(a *batch.Arena) int64 { return int64(a.NumNodes()) }},
		{"nbytes", func(a *batch.Arena) int64 { return a.Size() }},
		{"address", func(a *batch.Arena) int64 { return int64(a.Addr()) }},
		{"row_bytes", func(a *batch.Arena) int64 { return a.RowBytes() }},
		{"dtype", func(a *batch.Arena) int64 { return int64(a.DType()) }}, // a code of ArenaDTypes
		{"norm", func(a *batch.Arena) int64 { return int64(a.Norm()) }},   // a code of Norms
		{"has_labels", func(a *batch.Arena) int64 { return b2i(a.HasLabels()) }},
		{"table_cols", func(a *batch.Arena) int64 { return int64(a.TableCols()) }},
		{"has_halo", func(a *batch.Arena) int64 { return b2i(a.HasHalo()) }},
	}
	for s, name := range batch.SectionNames() {
		f = append(f,
			arenaField{name + "_offset", func(a *batch.Arena) int64 { off, _ := a.Offsets(); return off[s] }},
			arenaField{name + "_size", func(a *batch.Arena) int64 { _, size := a.Offsets(); return size[s] }})
	}
	return f
}()

type arenaField struct {
	name string
	get  func(*batch.Arena) int64
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ArenaInfoFields returns the names of the values ArenaInfo writes,
// comma-separated, in order (num_batches, num_nodes, nbytes, address,
// row_bytes, dtype, norm, has_labels, table_cols, has_halo, then <section>_offset and
// <section>_size for each section of batch.SectionNames).
func ArenaInfoFields() string {
	names := make([]string, len(arenaInfoFields))
	for i, f := range arenaInfoFields {
		names[i] = f.name
	}
	return strings.Join(names, ",")
}

// ArenaInfo writes the description of arena h as n int64 at out, one per
// name of ArenaInfoFields (n must be their number). The memory stays valid
// until Free(h).
func ArenaInfo(h int, out uintptr, n int) (err error) {
	defer guard(&err)
	a, err := get[*batch.Arena](h)
	if err != nil {
		return err
	}
	if n != len(arenaInfoFields) {
		return argErr("ArenaInfo writes %d values, the buffer holds %d", len(arenaInfoFields), n)
	}
	o, err := int64s(out, n)
	if err != nil {
		return err
	}
	for i, f := range arenaInfoFields {
		o[i] = f.get(a)
	}
	return nil
}

// ArenaDTypes returns the names of the feature dtype codes, comma-separated,
// the name of code i at position i: "none,float32,float16,bfloat16" (the
// numpy and torch names). ArenaBuildJob takes these codes, ArenaInfo
// reports them.
func ArenaDTypes() string {
	names := make([]string, batch.NumDTypes)
	for d := range batch.NumDTypes {
		names[d] = d.String()
	}
	return strings.Join(names, ",")
}

// Norms returns the names of the normalization codes, comma-separated, the
// name of code i at position i: "none,rw,sym". Functions taking a norm take
// its name; ArenaInfo reports its code.
func Norms() string {
	var names []string
	for n := graph.NormNone; n <= graph.NormSym; n++ {
		names = append(names, n.String())
	}
	return strings.Join(names, ",")
}

// ArenaParams returns the parameters text stored with arena h.
func ArenaParams(h int) (s string, err error) {
	defer guard(&err)
	a, err := get[*batch.Arena](h)
	if err != nil {
		return "", err
	}
	return a.Params(), nil
}

// ArenaSaveJob starts a job that writes arena h to path atomically (see
// batch.WriteFileContext: temporary file in the same folder, mode kept,
// stale temporary files of dead writers removed) and returns the job's
// handle. Cancelling the job stops the write between two 64 MiB chunks and
// removes the temporary file, leaving path as it was. The arena must not be
// freed before the job has finished. File errors carry their errno (see
// fileErr).
func ArenaSaveJob(h int, path string) (j int, err error) {
	defer guard(&err)
	a, err := get[*batch.Arena](h)
	if err != nil {
		return 0, err
	}
	return startJob(func(ctx context.Context, progress func(int, int)) (any, error) {
		return nil, fileErr(a.WriteFileContext(ctx, path))
	}), nil
}

// ArenaOpen maps the arena saved at path and returns its handle. Every
// offset, count and id the views index with is checked; verify also checks
// the payload checksum (reads the whole file). File errors carry their
// errno (see fileErr).
func ArenaOpen(path string, verify bool) (h int, err error) {
	defer guard(&err)
	a, err := batch.OpenFile(path, verify)
	if err != nil {
		return 0, fileErr(err)
	}
	return put(a), nil
}

// partOut is the result of a partition job: the part of every node.
type partOut []int32

// Partition starts a job that splits graph gh (read as undirected) into
// parts parts with the multilevel partitioner and returns its handle; once
// it has finished (JobWait), PartitionCopy writes the part of every node.
// nodeWeights is 0 (all 1) or NumNodes int64 weights (copied); imbalance is
// the allowed excess of the heaviest part (0: the default 3%). Invalid
// arguments are reported by JobWait; cancelling the job stops it within
// milliseconds.
func Partition(gh, parts int, nodeWeights uintptr, imbalance float64, seed, workers int) (h int, err error) {
	defer guard(&err)
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return 0, err
	}
	opt := partition.Options{Parts: parts, Imbalance: imbalance, Seed: uint64(seed), Workers: workers}
	if nodeWeights != 0 {
		w, err := int64s(nodeWeights, g.NumNodes)
		if err != nil {
			return 0, err
		}
		opt.NodeWeights = slices.Clone(w)
	}
	return startJob(func(ctx context.Context, _ func(int, int)) (any, error) {
		p, err := partition.PartitionContext(ctx, g, opt)
		return partOut(p), err
	}), nil
}

// PartitionCopy writes the part of every node of finished partition job h
// as NumNodes int64 at out.
func PartitionCopy(h int, out uintptr) (err error) {
	defer guard(&err)
	p, o, err := withInts(jobResult[partOut], h, out, func(p partOut) int { return len(p) })
	if err != nil {
		return err
	}
	for i, v := range p {
		o[i] = int64(v)
	}
	return nil
}
