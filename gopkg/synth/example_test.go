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
