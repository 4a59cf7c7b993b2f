package partition_test

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/partition"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

// Two triangles joined by a single edge split into two parts along that
// edge.
func ExamplePartition() {
	g := synth.Barbell()
	part, err := partition.Partition(g, partition.Options{Parts: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same side:", part[0] == part[1] && part[1] == part[2], part[3] == part[4] && part[4] == part[5])
	fmt.Println("edge cut:", partition.EdgeCut(g, part))
	fmt.Println("balance:", partition.Balance(part, 2, nil))
	// Output:
	// same side: true true
	// edge cut: 1
	// balance: 1
}

// The earlier heavy-edge matching scheme stays available; both give every
// node a part in [0, Parts).
func ExampleAlgorithm() {
	g := synth.Barbell()
	for _, alg := range []partition.Algorithm{partition.Deep, partition.HeavyEdge} {
		part, err := partition.Partition(g, partition.Options{Parts: 2, Seed: 1, Algorithm: alg})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: edge cut %d\n", alg, partition.EdgeCut(g, part))
	}
	// Output:
	// deep: edge cut 1
	// heavy-edge: edge cut 1
}
