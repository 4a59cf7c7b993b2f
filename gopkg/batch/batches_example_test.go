package batch_test

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func ExampleNodeWise() {
	// Two triangles joined by the edge 2–3.
	g := synth.Barbell()
	b, err := batch.NodeWise(g, []int64{5, 0, 1, 4}, batch.NodeWiseOptions{
		NumAuxNodes: 2, MaxOutputsPerBatch: 2, Alpha: 0.25, Eps: 1e-4})
	if err != nil {
		panic(err)
	}
	for i := range b.NumBatches() {
		out, nodes := b.Batch(i)
		fmt.Println(out, nodes)
	}
	// Output:
	// [0 1] [0 1 2]
	// [4 5] [3 4 5]
}
