// Command gather shows the engine used directly from Go: generate the
// built-in default graph, build its symmetric normalized CSR, take the
// subgraph induced by a random batch of nodes and gather the batch's feature
// rows into one contiguous block.
//
//	go run ./examples/go/gather
package main

import (
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
	"github.com/ibmb-dev/ibmb/kernels/gather"
)

func main() {
	cfg := synth.DefaultCSBM()
	data, err := cfg.Generate()
	if err != nil {
		log.Fatal(err)
	}
	g, err := graph.FromCOO(data.Src, data.Dst, data.NumNodes,
		graph.Options{Symmetrize: true, DropDuplicates: true, AddSelfLoops: true})
	if err != nil {
		log.Fatal(err)
	}
	w, err := g.Normalized(graph.NormSym)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("graph: %d nodes, %d edges (symmetrized, self-loops), %d sym weights\n", g.NumNodes, g.NumEdges(), len(w))

	// A batch of 4096 distinct random nodes.
	r := rand.New(rand.NewPCG(1, 2))
	batch := make([]int64, 4096)
	for i, v := range r.Perm(data.NumNodes)[:len(batch)] {
		batch[i] = int64(v)
	}
	sub, err := g.Induced(batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("batch: %d nodes, %d induced edges\n", sub.NumNodes, sub.NumEdges())

	f := data.NumFeatures
	x := make([]float32, len(batch)*f)
	start := time.Now()
	if err := gather.Float32(x, data.X, f, batch); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gathered %d x %d features with the %v kernel in %v\n", len(batch), f, gather.TierFor(int64(4*f)), time.Since(start))
	fmt.Printf("first row == node %d's features: %v\n", batch[0], x[0] == data.X[int(batch[0])*f])
}
