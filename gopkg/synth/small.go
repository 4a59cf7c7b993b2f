package synth

import (
	"slices"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Path4 returns the undirected path on four nodes, as a symmetric CSR graph
// with no weights and no self-loops (6 stored edges):
//
//	0 – 1 – 2 – 3
//
// Each call returns a new graph.
func Path4() *graph.CSR { return undirected(4, [2]int32{0, 1}, [2]int32{1, 2}, [2]int32{2, 3}) }

// Barbell returns two triangles joined by one edge (NetworkX's
// barbell_graph(3, 0)), as a symmetric CSR graph with no weights and no
// self-loops (14 stored edges): a graph with one obvious 2-way cut.
//
//	0       4
//	| \   / |
//	|  2–3  |
//	| /   \ |
//	1       5
//
// Each call returns a new graph.
func Barbell() *graph.CSR {
	return undirected(6, [2]int32{0, 1}, [2]int32{1, 2}, [2]int32{0, 2}, [2]int32{2, 3},
		[2]int32{3, 4}, [2]int32{4, 5}, [2]int32{3, 5})
}

// Lollipop returns a triangle with a two-edge tail (NetworkX's
// lollipop_graph(3, 2)), as a symmetric CSR graph with no weights and no
// self-loops (10 stored edges):
//
//	0
//	| \
//	|  2 – 3 – 4
//	| /
//	1
//
// Each call returns a new graph.
func Lollipop() *graph.CSR {
	return undirected(5, [2]int32{0, 1}, [2]int32{1, 2}, [2]int32{0, 2}, [2]int32{2, 3}, [2]int32{3, 4})
}

// undirected builds the CSR graph on n nodes that stores each edge {u, v}
// as u→v and v→u, rows sorted. The callers pass fixed, valid edges, so
// there is nothing to check and nothing that could fail.
func undirected(n int, edges ...[2]int32) *graph.CSR {
	adj := make([][]int32, n)
	for _, e := range edges {
		adj[e[0]] = append(adj[e[0]], e[1])
		adj[e[1]] = append(adj[e[1]], e[0])
	}
	g := &graph.CSR{NumNodes: n, Indptr: make([]int64, 1, n+1), Indices: make([]int32, 0, 2*len(edges))}
	for _, row := range adj {
		slices.Sort(row)
		g.Indices = append(g.Indices, row...)
		g.Indptr = append(g.Indptr, int64(len(g.Indices)))
	}
	return g
}
