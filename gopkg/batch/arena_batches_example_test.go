package batch_test

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func ExampleArena_Batches() {
	// A path 0–1–2–3 and one batch with output 2 and auxiliary nodes 1, 3.
	g := synth.Path4()
	a, err := batch.BuildArena(g, []int64{0, 3}, []int64{1, 2, 3}, []int64{0, 1}, []int64{2}, batch.ArenaOptions{})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	fmt.Println(a.Batch(0).NID) // the arena lists outputs first
	b, err := a.Batches()
	if err != nil {
		panic(err)
	}
	out, nodes := b.Batch(0)
	fmt.Println(out, nodes)
	// Output:
	// [2 1 3]
	// [2] [1 2 3]
}
