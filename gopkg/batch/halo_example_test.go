package batch_test

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func ExampleHaloGraph() {
	// A path 0–1–2–3 and one batch with output 1 and auxiliary node 2.
	g := synth.Path4()
	// In-edges with GCN's weights over the full graph (self-loops, sym).
	hg, err := batch.HaloGraph(g, graph.NormSym, true)
	if err != nil {
		panic(err)
	}
	a, err := batch.BuildArena(g, []int64{0, 2}, []int64{1, 2}, []int64{0, 1}, []int64{1}, batch.ArenaOptions{Halo: hg})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	v := a.Batch(0)
	fmt.Println(v.NID, v.NumOut, v.NumExact) // outputs, auxiliary nodes, halo
	for k := range v.Src {
		fmt.Printf("%d->%d %.3f\n", v.NID[v.Src[k]], v.NID[v.Dst[k]], v.Weight[k])
	}
	// Output:
	// [1 2 0 3] 1 2
	// 0->1 0.408
	// 1->1 0.333
	// 2->1 0.333
	// 1->2 0.333
	// 2->2 0.333
	// 3->2 0.408
}
