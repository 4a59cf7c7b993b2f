package bindings

import (
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
)

// StepInducerNew returns the handle of a step inducer over graph gh whose
// edge weights are normalized by norm ("sym", "rw" or "none"): it builds
// the subgraph of a merged batch (several arena batches trained on in one
// step) without building an arena; see StepInducerRun.
func StepInducerNew(gh int, norm string) (h int, err error) {
	defer guard(&err)
	g, nm, err := normedGraph(gh, norm)
	if err != nil {
		return 0, err
	}
	s, err := batch.NewStepInducer(g, nm)
	if err != nil {
		return 0, err
	}
	return put(s), nil
}

// StepInducerRun induces, on step inducer h, the subgraph of the n distinct
// int64 node ids at nodes (local id i is nodes[i]) and returns its edge
// count m. When m ≤ capEdges it writes the local sources and then the local
// targets (2m int64 at edges, which holds 2·capEdges) and the normalized
// weights (m float32 at weight, which holds capEdges); when m > capEdges it
// writes nothing.
func StepInducerRun(h int, nodes uintptr, n int, edges, weight uintptr, capEdges int) (m int, err error) {
	defer guard(&err)
	s, err := get[*batch.StepInducer](h)
	if err != nil {
		return 0, err
	}
	if capEdges < 0 || capEdges > 1<<40 {
		return 0, argErr("edge capacity %d out of range", capEdges)
	}
	ns, err := int64s(nodes, n)
	if err != nil {
		return 0, err
	}
	e, err := int64s(edges, 2*capEdges)
	if err != nil {
		return 0, err
	}
	var w []float32
	if capEdges > 0 {
		if weight == 0 {
			return 0, argErr("weight buffer is null")
		}
		w = unsafe.Slice((*float32)(ptr(weight)), capEdges)
	}
	return s.Induce(ns, e, w)
}
