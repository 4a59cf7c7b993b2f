package bindings

import (
	"slices"
	"strings"
	"testing"
)

// TestArenaBatches builds an arena, reads its batches back through
// ArenaBatches and checks them, and checks the errors of bad handles.
func TestArenaBatches(t *testing.T) {
	g, a := smallArena(t)
	bj, err := ArenaBatches(a)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(bj)
	if err := JobWait(bj); err != nil {
		t.Fatal(err)
	}
	shape := make([]int64, 3)
	if err := BatchesShape(bj, addr(shape)); err != nil || !slices.Equal(shape, []int64{2, 2, 6}) {
		t.Fatalf("shape %v (%v), want [2 2 6]", shape, err)
	}
	gotOutPtr, gotOut, gotNodePtr, gotNodes := make([]int64, 3), make([]int64, 2), make([]int64, 3), make([]int64, 6)
	if err := BatchesCopy(bj, addr(gotOutPtr), addr(gotOut), addr(gotNodePtr), addr(gotNodes)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotOutPtr, smallOutPtr) || !slices.Equal(gotOut, smallOut) ||
		!slices.Equal(gotNodePtr, smallNodePtr) || !slices.Equal(gotNodes, smallNodes) {
		t.Fatalf("got %v %v %v %v, want the batches the arena was built from", gotOutPtr, gotOut, gotNodePtr, gotNodes)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"unknown handle", func() error { _, err := ArenaBatches(1 << 40); return err }},
		{"graph handle", func() error { _, err := ArenaBatches(g); return err }},
	} {
		if err := tc.call(); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
			t.Errorf("%s: got %v, want a value error", tc.name, err)
		}
	}
}

// TestGraphReweighted checks that the reweighted graph carries the
// full-graph weights (a step inducer with norm "none" reads them back) and
// the errors of bad arguments.
func TestGraphReweighted(t *testing.T) {
	// A star: node 0 joined to 1, 2, 3 (both directions), so deg(0) = 3.
	src := []int64{0, 0, 0, 1, 2, 3}
	dst := []int64{1, 2, 3, 0, 0, 0}
	coo := append(append([]int64{}, src...), dst...)
	g, err := GraphFromCOO(addr(coo), len(src), 4, false, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(g)
	for _, tc := range []struct {
		norm string
		want []float32 // edges 0->1 and 1->0 of the batch {0, 1}
	}{
		{"rw", []float32{1.0 / 3, 1}},
		{"none", []float32{1, 1}},
	} {
		rg, err := GraphReweighted(g, tc.norm)
		if err != nil {
			t.Fatal(err)
		}
		s, err := StepInducerNew(rg, "none")
		if err != nil {
			t.Fatal(err)
		}
		nodes, edges, weight := []int64{0, 1}, make([]int64, 8), make([]float32, 4)
		m, err := StepInducerRun(s, addr(nodes), 2, addr(edges), addr(weight), 4)
		if err != nil || m != 2 || !slices.Equal(weight[:2], tc.want) {
			t.Errorf("%s: m=%d weights %v (%v), want %v", tc.norm, m, weight[:m], err, tc.want)
		}
		Free(s)
		Free(rg)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"bad norm", func() error { _, err := GraphReweighted(g, "l2"); return err }},
		{"unknown handle", func() error { _, err := GraphReweighted(1<<40, "rw"); return err }},
	} {
		if err := tc.call(); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
			t.Errorf("%s: got %v, want a value error", tc.name, err)
		}
	}
}
