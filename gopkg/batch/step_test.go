package batch

import (
	"errors"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestStepInducerMatchesArena checks that a merged batch built by
// StepInducer equals the one-batch arena BuildArena makes of the same
// nodes, for every normalization.
func TestStepInducerMatchesArena(t *testing.T) {
	// Two triangles joined by the edge 2-3, both directions, plus a self-loop on 5.
	src := []int64{0, 1, 1, 2, 0, 2, 2, 3, 3, 4, 4, 5, 3, 5, 5}
	dst := []int64{1, 0, 2, 1, 2, 0, 3, 2, 4, 3, 5, 4, 5, 3, 5}
	g, err := graph.FromCOO(src, dst, 6, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		nodes, out []int64 // sorted batch nodes and outputs
	}{
		{"all", []int64{0, 1, 2, 3, 4, 5}, []int64{1, 4}},
		{"cross edge only", []int64{2, 3}, []int64{3}},
		{"no edges", []int64{0, 4}, []int64{0, 4}},
		{"self-loop", []int64{3, 5}, []int64{5}},
	}
	for _, norm := range []graph.Norm{graph.NormSym, graph.NormRow, graph.NormNone} {
		s, err := NewStepInducer(g, norm)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			a, err := BuildArena(g, []int64{0, int64(len(tc.nodes))}, tc.nodes, []int64{0, int64(len(tc.out))}, tc.out,
				ArenaOptions{Norm: norm})
			if err != nil {
				t.Fatal(err)
			}
			v := a.Batch(0)
			edges := make([]int64, 2*len(src))
			weight := make([]float32, len(src))
			m, err := s.Induce(v.NID, edges, weight)
			if err != nil {
				t.Fatalf("%v %s: %v", norm, tc.name, err)
			}
			if m != len(v.Src) || !slices.Equal(edges[:m], v.Src) || !slices.Equal(edges[m:2*m], v.Dst) ||
				!slices.Equal(weight[:m], v.Weight) {
				t.Errorf("%v %s: got %d edges %v %v, want %v %v %v", norm, tc.name, m, edges[:2*m], weight[:m],
					v.Src, v.Dst, v.Weight)
			}
			a.Close()
		}
	}
}

// TestStepInducerSmallBuffers checks that too small buffers get the edge
// count and stay untouched, and that bad ids are errors.
func TestStepInducerSmallBuffers(t *testing.T) {
	g, err := graph.FromCOO([]int64{0, 1, 1, 2}, []int64{1, 0, 2, 1}, 3, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStepInducer(g, graph.NormSym)
	if err != nil {
		t.Fatal(err)
	}
	edges, weight := []int64{-7, -7, -7}, []float32{-7}
	m, err := s.Induce([]int64{0, 1, 2}, edges, weight)
	if err != nil || m != 4 || !slices.Equal(edges, []int64{-7, -7, -7}) || weight[0] != -7 {
		t.Errorf("got m=%d err=%v edges=%v weight=%v, want 4 edges reported and nothing written", m, err, edges, weight)
	}
	for _, tc := range []struct {
		name  string
		nodes []int64
		want  error
	}{
		{"out of range", []int64{0, 3}, graph.ErrIndex},
		{"negative", []int64{-1}, graph.ErrIndex},
		{"repeated", []int64{1, 1}, graph.ErrValue},
	} {
		if _, err := s.Induce(tc.nodes, make([]int64, 8), make([]float32, 4)); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := NewStepInducer(nil, graph.NormSym); !errors.Is(err, graph.ErrValue) {
		t.Errorf("nil graph: got %v", err)
	}
}
