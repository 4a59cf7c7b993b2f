package partition

import (
	"math"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// EdgeCut returns the number of edges of g whose end points lie in
// different parts. g is taken to be symmetric, so every stored entry u→v
// with u < v counts once (the mirror entry v→u is not counted again);
// parallel edges count once each, self-loops never, and edge weights are
// ignored. EdgeCut returns -1 if g is nil, part does not have one entry per
// node, or g's arrays are inconsistent.
func EdgeCut(g *graph.CSR, part []int32) int64 {
	if g == nil || g.NumNodes < 0 || len(part) != g.NumNodes || len(g.Indptr) != g.NumNodes+1 {
		return -1
	}
	n := g.NumNodes
	if g.Indptr[0] != 0 || g.Indptr[n] != int64(len(g.Indices)) {
		return -1
	}
	c := int64(0)
	for u := 0; u < n; u++ {
		lo, hi := g.Indptr[u], g.Indptr[u+1]
		if lo > hi || lo < 0 || hi > int64(len(g.Indices)) {
			return -1
		}
		for _, v := range g.Indices[lo:hi] {
			if v < 0 || int(v) >= n {
				return -1
			}
			if int(v) > u && part[v] != part[u] {
				c++
			}
		}
	}
	return c
}

// Balance returns the weight of the heaviest part divided by the average
// part weight total/parts, so 1 is perfect balance. nodeWeights nil means
// every node weighs 1. Balance returns 1 when the total weight is 0, and
// NaN if parts < 1, nodeWeights has the wrong length or holds a negative
// weight, or some entry of part lies outside [0, parts).
func Balance(part []int32, parts int, nodeWeights []int64) float64 {
	if parts < 1 || (nodeWeights != nil && len(nodeWeights) != len(part)) {
		return math.NaN()
	}
	pw := make([]float64, parts)
	total := 0.0
	for u, p := range part {
		if p < 0 || int(p) >= parts {
			return math.NaN()
		}
		w := 1.0
		if nodeWeights != nil {
			if nodeWeights[u] < 0 {
				return math.NaN()
			}
			w = float64(nodeWeights[u])
		}
		pw[p] += w
		total += w
	}
	if total == 0 {
		return 1
	}
	mx := 0.0
	for _, w := range pw {
		mx = max(mx, w)
	}
	return mx / (total / float64(parts))
}
