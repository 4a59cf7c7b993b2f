package graph_test

import (
	"errors"
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

func ExampleFromCOO() {
	// A PyG edge_index [[0, 1, 1], [1, 2, 2]] on 4 nodes (node 3 is
	// isolated), made undirected and simple, with self-loops.
	src := []int64{0, 1, 1}
	dst := []int64{1, 2, 2}
	g, err := graph.FromCOO(src, dst, 4, graph.Options{
		Symmetrize:     true,
		DropDuplicates: true,
		AddSelfLoops:   true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for u := range g.NumNodes {
		fmt.Println(u, g.Row(u))
	}
	fmt.Println("edges:", g.NumEdges(), "symmetric:", g.IsSymmetric())
	// Output:
	// 0 [0 1]
	// 1 [0 1 2]
	// 2 [1 2]
	// 3 [3]
	// edges: 8 symmetric: true
}

func ExampleFromCOO_errors() {
	_, err := graph.FromCOO([]int64{0, 1}, []int64{1, 5}, 5, graph.Options{})
	fmt.Println(err)
	fmt.Println(errors.Is(err, graph.ErrIndex))
	// Output:
	// index error: edge 1 has node id 5 but num_nodes is 5
	// true
}

func ExampleCSR_Normalized() {
	// Path 0 - 1 - 2: degrees 1, 2, 1.
	g, _ := graph.FromCOO([]int64{0, 1}, []int64{1, 2}, -1, graph.Options{Symmetrize: true})
	rw, _ := g.Normalized(graph.NormRow)
	sym, _ := g.Normalized(graph.NormSym)
	fmt.Println(g.Indices)
	fmt.Println(rw)
	fmt.Printf("%.4f\n", sym)
	// Output:
	// [1 0 2 1]
	// [1 0.5 0.5 1]
	// [0.7071 0.7071 0.7071 0.7071]
}

func ExampleParseNorm() {
	for _, s := range []string{"sym", "row", "gcn"} {
		n, err := graph.ParseNorm(s)
		fmt.Println(n, err)
	}
	// Output:
	// sym <nil>
	// rw <nil>
	// none value error: unknown normalization "gcn": want "none", "rw", "row" or "sym"
}

func ExampleInducer() {
	// Cycle 0→1→2→3→0.
	g, _ := graph.FromCOO([]int64{0, 1, 2, 3}, []int64{1, 2, 3, 0}, 4, graph.Options{})
	in := graph.NewInducer(g) // reuse for every batch; one per goroutine
	for _, batch := range [][]int64{{2, 1, 0}, {3, 0}} {
		sub, err := in.Induce(batch)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(sub.Indptr, sub.Indices)
	}
	// Output:
	// [0 0 1 2] [0 1]
	// [0 1 1] [1]
}

func ExampleCSR_Transpose() {
	// Star with edges 0→1, 0→2, 0→3: in-degrees are the out-degrees of
	// the transpose.
	g, _ := graph.FromCOO([]int64{0, 0, 0}, []int64{1, 2, 3}, -1, graph.Options{})
	fmt.Println(g.Degrees(), g.Transpose().Degrees())
	// Output: [3 0 0 0] [0 1 1 1]
}
