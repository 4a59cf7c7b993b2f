package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
)

// randomCOO returns e edges whose endpoints are drawn uniformly from
// [0, n), deterministically from seed.
func randomCOO(seed uint64, n, e int) (src, dst []int64) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	src = make([]int64, e)
	dst = make([]int64, e)
	for i := range e {
		src[i] = r.Int64N(int64(n))
		dst[i] = r.Int64N(int64(n))
	}
	return src, dst
}

// randomWeighted returns a random weighted CSR on n nodes with about e edges,
// parallel edges and self-loops included, and weights in [0.1, 2).
func randomWeighted(seed uint64, n, e int) *CSR {
	src, dst := randomCOO(seed, n, e)
	g, err := FromCOO(src, dst, n, Options{})
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	g.Weights = make([]float32, g.NumEdges())
	for i := range g.Weights {
		g.Weights[i] = 0.1 + 1.9*r.Float32()
	}
	return g
}

// refFromCOO is a deliberately simple model of FromCOO: every row is a
// multiset (a map from column to multiplicity) and the options act on the
// multiplicities directly.
func refFromCOO(src, dst []int64, n int, opt Options) *CSR {
	if n < 0 {
		n = 0
		for i := range src {
			n = max(n, int(src[i])+1, int(dst[i])+1)
		}
	}
	rows := make([]map[int32]int, n)
	for u := range rows {
		rows[u] = map[int32]int{}
	}
	for i := range src {
		u, v := src[i], dst[i]
		rows[u][int32(v)]++
		if opt.Symmetrize && u != v {
			rows[v][int32(u)]++
		}
	}
	g := &CSR{NumNodes: n, Indptr: make([]int64, n+1), Indices: []int32{}}
	for u, row := range rows {
		if opt.DropDuplicates {
			for v := range row {
				row[v] = 1
			}
		}
		if opt.AddSelfLoops && row[int32(u)] == 0 {
			row[int32(u)] = 1
		}
		cols := make([]int32, 0, len(row))
		for v := range row {
			cols = append(cols, v)
		}
		slices.Sort(cols)
		for _, v := range cols {
			for range row[v] {
				g.Indices = append(g.Indices, v)
			}
		}
		g.Indptr[u+1] = int64(len(g.Indices))
	}
	return g
}

// diffCSR returns a description of the first difference between got and
// want, or "" if they are identical (nil and empty slices count as equal).
func diffCSR(got, want *CSR) string {
	if got.NumNodes != want.NumNodes {
		return fmt.Sprintf("NumNodes = %d, want %d", got.NumNodes, want.NumNodes)
	}
	if !slices.Equal(got.Indptr, want.Indptr) {
		return fmt.Sprintf("Indptr = %v, want %v", clip(got.Indptr), clip(want.Indptr))
	}
	if !slices.Equal(got.Indices, want.Indices) {
		for i := range min(len(got.Indices), len(want.Indices)) {
			if got.Indices[i] != want.Indices[i] {
				return fmt.Sprintf("Indices[%d] = %d, want %d (len %d vs %d)", i, got.Indices[i], want.Indices[i], len(got.Indices), len(want.Indices))
			}
		}
		return fmt.Sprintf("len(Indices) = %d, want %d", len(got.Indices), len(want.Indices))
	}
	if (got.Weights == nil) != (want.Weights == nil) {
		return fmt.Sprintf("Weights nil = %t, want %t", got.Weights == nil, want.Weights == nil)
	}
	if !slices.Equal(got.Weights, want.Weights) {
		return fmt.Sprintf("Weights = %v, want %v", clip(got.Weights), clip(want.Weights))
	}
	return ""
}

// clip shortens long slices in failure messages.
func clip[T any](s []T) []T {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// bruteInduced computes the induced subgraph by testing every ordered pair
// of batch nodes, scanning the source row for the target each time.
func bruteInduced(g *CSR, nodes []int64) *CSR {
	k := len(nodes)
	out := &CSR{NumNodes: k, Indptr: make([]int64, k+1), Indices: []int32{}}
	if g.Weights != nil {
		out.Weights = []float32{}
	}
	for i, u := range nodes {
		for j, v := range nodes {
			for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
				if int64(g.Indices[p]) == v {
					out.Indices = append(out.Indices, int32(j))
					if g.Weights != nil {
						out.Weights = append(out.Weights, g.Weights[p])
					}
				}
			}
		}
		out.Indptr[i+1] = int64(len(out.Indices))
	}
	return out
}

// denseOf returns the dense float64 adjacency of g, summing parallel edges.
func denseOf(g *CSR) [][]float64 {
	a := make([][]float64, g.NumNodes)
	for u := range a {
		a[u] = make([]float64, g.NumNodes)
		for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
			w := 1.0
			if g.Weights != nil {
				w = float64(g.Weights[p])
			}
			a[u][g.Indices[p]] += w
		}
	}
	return a
}

// sortedCopy returns the values of s in ascending order.
func sortedCopy(s []int64) []int64 {
	c := slices.Clone(s)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c
}
