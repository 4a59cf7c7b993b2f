package bindings

import (
	"slices"
	"strings"
	"testing"
)

// TestHaloFacade builds a halo graph, a halo inducer run (too small, then
// with room) and a halo arena through the facade, and checks bad input.
func TestHaloFacade(t *testing.T) {
	g := smallGraph(t) // path 0-1-2-3-4-5, symmetric
	hg, err := GraphHalo(g, "sym", true)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(hg)
	in, err := HaloInducerNew(hg)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(in)
	nodes := []int64{3, 2}
	counts := make([]int64, 2)
	if err := HaloInducerRun(in, addr(nodes), 2, 0, 0, 0, 0, 0, addr(counts)); err != nil || counts[0] != 2 || counts[1] != 6 {
		t.Fatalf("counts %v, %v; want 2 halo nodes, 6 edges", counts, err)
	}
	halo, edges, w := make([]int64, 2), make([]int64, 12), make([]float32, 6)
	if err := HaloInducerRun(in, addr(nodes), 2, addr(halo), 2, addr(edges), addr(w), 6, addr(counts)); err != nil {
		t.Fatal(err)
	}
	// Node 3's in-edges from 2, 3, 4, then node 2's from 1, 2, 3.
	if !slices.Equal(halo, []int64{1, 4}) || !slices.Equal(edges, []int64{1, 0, 3, 2, 1, 0, 0, 0, 0, 1, 1, 1}) {
		t.Fatalf("halo %v edges %v", halo, edges)
	}
	nodePtr, ns := []int64{0, 2}, []int64{2, 3}
	outPtr, out := []int64{0, 1}, []int64{3}
	j, err := ArenaBuildHaloJob(g, hg, addr(nodePtr), addr(ns), addr(outPtr), addr(out), 1, 2, 1, "none", 0, 0, 0, 0, "{}", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := JobWait(j); err != nil {
		t.Fatal(err)
	}
	a, err := ArenaFromJob(j)
	Free(j)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(a)
	info := make([]int64, len(arenaInfoFields))
	if err := ArenaInfo(a, addr(info), len(info)); err != nil {
		t.Fatal(err)
	}
	names := strings.Split(ArenaInfoFields(), ",")
	got := map[string]int64{}
	for i, n := range names {
		got[n] = info[i]
	}
	if got["has_halo"] != 1 || got["table_cols"] != 6 || got["nid_size"] != 4*8 {
		t.Fatalf("arena info %v", got)
	}
	for name, call := range map[string]func() error{
		"unknown norm": func() error { _, err := GraphHalo(g, "mean", true); return err },
		"in-batch norm with halo": func() error {
			_, err := ArenaBuildHaloJob(g, hg, addr(nodePtr), addr(ns), addr(outPtr), addr(out), 1, 2, 1, "sym", 0, 0, 0, 0, "{}", "")
			return err
		},
		"repeated node": func() error {
			bad := []int64{2, 2}
			return HaloInducerRun(in, addr(bad), 2, 0, 0, 0, 0, 0, addr(counts))
		},
		"node out of range": func() error {
			bad := []int64{6}
			return HaloInducerRun(in, addr(bad), 1, 0, 0, 0, 0, 0, addr(counts))
		},
		"not an inducer": func() error { return HaloInducerRun(hg, addr(nodes), 2, 0, 0, 0, 0, 0, addr(counts)) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
