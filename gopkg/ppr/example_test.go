package ppr_test

import (
	"errors"
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func ExampleNodeWise() {
	// An undirected path 0 – 1 – 2 – 3 and an isolated node 4, as a PyG
	// edge_index made symmetric.
	g, err := graph.FromCOO([]int64{0, 1, 2}, []int64{1, 2, 3}, 5, graph.Options{Symmetrize: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, st, err := ppr.NodeWise(g, []int64{1, 4}, ppr.Options{Alpha: 0.25, Eps: 1e-3, TopK: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range res.NumRows() {
		nodes, scores := res.Row(i)
		fmt.Printf("row %d: nodes %v scores %.3f\n", i, nodes, scores)
	}
	fmt.Println("pushes > 0:", st.Pushes > 0)

	_, _, err = ppr.NodeWise(g, []int64{0, 5}, ppr.Options{Alpha: 0.25, Eps: 1e-3})
	fmt.Println(err)
	fmt.Println("index kind:", errors.Is(err, errs.Index), errors.Is(err, graph.ErrIndex))
	// Output:
	// row 0: nodes [1 2 0] scores [0.477 0.248 0.179]
	// row 1: nodes [4] scores [0.250]
	// pushes > 0: true
	// index error: ppr: target node 5 (at position 1) is out of range for 5 nodes
	// index kind: true true
}

func ExampleSetWise() {
	// A triangle 0, 1, 2 with a tail 2 – 3 – 4; one vector teleporting
	// uniformly to {0, 3} and one to {4}.
	g := synth.Lollipop()
	setPtr := []int64{0, 2, 3}
	setNodes := []int64{0, 3, 4}
	res, _, err := ppr.SetWise(g, setPtr, setNodes, ppr.Options{Alpha: 0.25, Eps: 1e-4, TopK: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range res.NumRows() {
		nodes, scores := res.Row(i)
		fmt.Printf("set %d: nodes %v scores %.3f\n", i, nodes, scores)
	}
	// Output:
	// set 0: nodes [3 2 0] scores [0.259 0.246 0.244]
	// set 1: nodes [4 3 2] scores [0.370 0.321 0.172]
}
