package synth_test

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func ExampleCSBM() {
	g, err := synth.CSBM{NumNodes: 1000, NumClasses: 5, AvgDegree: 4, Homophily: 0.9, NumFeatures: 8, Separation: 1}.Generate()
	if err != nil {
		panic(err)
	}
	fmt.Println(g.NumNodes, len(g.Src), len(g.X)/g.NumFeatures, g.NumClasses)
	// Output: 1000 4000 1000 5
}

func ExampleBarbell() {
	g := synth.Barbell()
	for u := range g.NumNodes {
		fmt.Println(u, g.Row(u))
	}
	// Output:
	// 0 [1 2]
	// 1 [0 2]
	// 2 [0 1 3]
	// 3 [2 4 5]
	// 4 [3 5]
	// 5 [3 4]
}
