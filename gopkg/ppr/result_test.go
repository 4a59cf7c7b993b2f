package ppr

import (
	"slices"
	"testing"
)

// TestResultRow checks Row and NumRows on a hand-made result.
func TestResultRow(t *testing.T) {
	r := &Result{
		Indptr: []int64{0, 2, 2, 3},
		Nodes:  []int32{4, 1, 7},
		Scores: []float32{0.5, 0.25, 1},
	}
	if r.NumRows() != 3 {
		t.Fatalf("NumRows = %d, want 3", r.NumRows())
	}
	want := []struct {
		nodes  []int32
		scores []float32
	}{
		{[]int32{4, 1}, []float32{0.5, 0.25}},
		{[]int32{}, []float32{}},
		{[]int32{7}, []float32{1}},
	}
	for i, w := range want {
		nodes, scores := r.Row(i)
		if !slices.Equal(nodes, w.nodes) || !slices.Equal(scores, w.scores) {
			t.Errorf("row %d: %v %v, want %v %v", i, nodes, scores, w.nodes, w.scores)
		}
		if cap(nodes) != len(nodes) || cap(scores) != len(scores) {
			t.Errorf("row %d: capacity not clipped", i)
		}
	}
	// Appending to a row must not overwrite the next one.
	nodes, _ := r.Row(0)
	_ = append(nodes, 99)
	if r.Nodes[2] != 7 {
		t.Error("append to a row overwrote the next row")
	}
}
