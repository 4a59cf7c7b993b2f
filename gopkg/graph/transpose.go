package graph

import "slices"

// Transpose returns the reverse graph: an edge v→u for every edge u→v of g,
// with its weight when g is weighted. The out-degrees of the result are the
// in-degrees of g. Rows of the result are sorted because the source rows are
// visited in ascending order; parallel edges keep the order they had in g.
func (g *CSR) Transpose() *CSR {
	n := g.NumNodes
	indptr := make([]int64, n+1)
	for _, v := range g.Indices {
		indptr[v+1]++
	}
	for u := range n {
		indptr[u+1] += indptr[u]
	}
	next := slices.Clone(indptr[:n])
	indices := make([]int32, len(g.Indices))
	var weights []float32
	if g.Weights != nil {
		weights = make([]float32, len(g.Weights))
	}
	for u := range n {
		for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
			v := g.Indices[p]
			q := next[v]
			next[v]++
			indices[q] = int32(u)
			if weights != nil {
				weights[q] = g.Weights[p]
			}
		}
	}
	return &CSR{NumNodes: n, Indptr: indptr, Indices: indices, Weights: weights}
}

// IsSymmetric reports whether g equals its transpose as a structure: for
// every pair (u, v) the edge u→v occurs as many times as v→u. Weights are
// not compared. It allocates nothing and runs in O(E log d) time, where d is
// the largest degree.
func (g *CSR) IsSymmetric() bool {
	for u := range g.NumNodes {
		row := g.Row(u)
		for i := 0; i < len(row); {
			v := row[i]
			j := i + 1
			for j < len(row) && row[j] == v {
				j++
			}
			if int(v) != u && count(g.Row(int(v)), int32(u)) != j-i {
				return false
			}
			i = j
		}
	}
	return true
}

// count returns how many times x occurs in the sorted slice s.
func count(s []int32, x int32) int {
	i, found := slices.BinarySearch(s, x)
	if !found {
		return 0
	}
	j := i + 1
	for j < len(s) && s[j] == x {
		j++
	}
	return j - i
}
