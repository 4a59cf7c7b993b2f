package batch

import (
	"fmt"
	"sync"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// StepInducer builds the subgraph of a merged batch: when one training step
// combines several batches of an arena, the step trains on the subgraph
// induced by the union of their nodes. StepInducer lays it out and weights
// it exactly as BuildArena lays out one batch (local ids are positions in
// the given node list, edges in CSR order, weights normalized within the
// subgraph), but writes into caller-provided buffers, so no arena is built
// per step. It reuses one graph.Inducer (a map of NumNodes int32s) across
// calls; calls are serialized, so it is safe for concurrent use.
type StepInducer struct {
	mu   sync.Mutex
	in   *graph.Inducer
	norm graph.Norm
}

// NewStepInducer returns a StepInducer over g normalizing by norm. Errors
// wrap graph.ErrValue (nil graph, unknown norm).
func NewStepInducer(g *graph.CSR, norm graph.Norm) (*StepInducer, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: step inducer: graph is nil", graph.ErrValue)
	}
	if norm != graph.NormNone && norm != graph.NormRow && norm != graph.NormSym {
		return nil, fmt.Errorf("%w: step inducer: unknown normalization %v", graph.ErrValue, norm)
	}
	return &StepInducer{in: graph.NewInducer(g), norm: norm}, nil
}

// Induce computes the subgraph induced by nodes (distinct ids; local id i
// is nodes[i]) and returns its edge count m. When m ≤ len(weight) and
// len(edges) ≥ 2m, it writes the local sources to edges[:m], the local
// targets to edges[m:2m] and the normalized weights to weight[:m];
// otherwise it writes nothing (call again with larger buffers). Errors wrap
// graph.ErrIndex (an id out of range) or graph.ErrValue (a repeated id).
func (s *StepInducer) Induce(nodes []int64, edges []int64, weight []float32) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.in.Induce(nodes)
	if err != nil {
		return 0, err
	}
	m := sub.NumEdges()
	if m > len(weight) || 2*m > len(edges) {
		return m, nil
	}
	w, err := sub.Normalized(s.norm)
	if err != nil {
		return 0, err
	}
	src, dst := edges[:m], edges[m:2*m]
	for i := 0; i < sub.NumNodes; i++ {
		for k := sub.Indptr[i]; k < sub.Indptr[i+1]; k++ {
			src[k] = int64(i)
			dst[k] = int64(sub.Indices[k])
		}
	}
	copy(weight, w)
	return m, nil
}
