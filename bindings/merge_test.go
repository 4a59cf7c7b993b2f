package bindings

import (
	"slices"
	"strings"
	"testing"
)

// TestStepInducer checks the step inducer's handle life cycle, its output
// on a path graph and its argument errors.
func TestStepInducer(t *testing.T) {
	src := []int64{0, 1, 1, 2}
	dst := []int64{1, 0, 2, 1}
	coo := append(append([]int64{}, src...), dst...)
	g, err := GraphFromCOO(addr(coo), len(src), 3, false, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(g)
	h, err := StepInducerNew(g, "none")
	if err != nil {
		t.Fatal(err)
	}
	nodes := []int64{2, 1} // local 0 = node 2, local 1 = node 1
	edges := make([]int64, 8)
	weight := make([]float32, 4)
	m, err := StepInducerRun(h, addr(nodes), 2, addr(edges),
		addr(weight), 4)
	if err != nil || m != 2 {
		t.Fatalf("got m=%d err=%v, want 2 edges", m, err)
	}
	if got, want := edges[:4], []int64{0, 1, 1, 0}; !slices.Equal(got, want) || weight[0] != 1 || weight[1] != 1 {
		t.Errorf("edges %v weights %v, want %v and ones", got, weight[:2], want)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		kind string
	}{
		{"bad norm", func() error { _, err := StepInducerNew(g, "l2"); return err }, "value"},
		{"graph handle is the inducer", func() error { _, err := StepInducerNew(h, "sym"); return err }, "value"},
		{"negative capacity", func() error {
			_, err := StepInducerRun(h, addr(nodes), 2, 0, 0, -1)
			return err
		}, "value"},
		{"null weight", func() error {
			_, err := StepInducerRun(h, addr(nodes), 2, addr(edges), 0, 4)
			return err
		}, "value"},
		{"node out of range", func() error {
			bad := []int64{5}
			_, err := StepInducerRun(h, addr(bad), 1, addr(edges),
				addr(weight), 4)
			return err
		}, "index"},
	} {
		if err := tc.run(); err == nil || !strings.HasPrefix(err.Error(), "ibmb:"+tc.kind+": ") {
			t.Errorf("%s: got %v, want a %s error", tc.name, err, tc.kind)
		}
	}
	if err := Free(h); err != nil {
		t.Fatal(err)
	}
}
