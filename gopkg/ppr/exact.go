package ppr

import (
	"math"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Exact returns the PPR vector of g whose teleport distribution is uniform
// over the distinct nodes of set, computed densely by power iteration in
// float64. It is the reference the tests hold NodeWise and SetWise to, and
// costs O(NumNodes + NumEdges) per iteration, so it is meant for testing,
// not for production.
//
// It sums p = alpha·Σ_k (1−alpha)^k · s·P^k term by term, with P = D⁻¹A the
// unweighted walk matrix (weights are ignored) whose rows for nodes without
// out-edges are zero, exactly the vector the push algorithm approximates.
// It stops once the mass of the remaining terms is at most tol, so that
// 0 ≤ p(v) − Exact(v) ≤ tol for every v up to rounding; this takes about
// log(tol)/log(1−alpha) iterations.
//
// Errors wrap graph.ErrValue for a nil or invalid g, alpha outside (0, 1),
// tol not positive and finite, or an empty set, and graph.ErrIndex for a
// node of set out of range.
func Exact(g *graph.CSR, set []int64, alpha, tol float64) ([]float64, error) {
	if err := checkAlpha(alpha); err != nil {
		return nil, err
	}
	if !(tol > 0) || math.IsInf(tol, 0) {
		return nil, valueErrorf("tol must be positive and finite, got %v", tol)
	}
	if err := checkGraph(g); err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, valueErrorf("target set is empty")
	}
	n := g.NumNodes
	for j, s := range set {
		if s < 0 || s >= int64(n) {
			return nil, indexErrorf("target node %d (at position %d) is out of range for %d nodes", s, j, n)
		}
	}
	x := make([]float64, n)
	y := make([]float64, n)
	p := make([]float64, n)
	distinct := 0
	for _, s := range set {
		if x[s] == 0 {
			x[s] = 1
			distinct++
		}
	}
	for v := range x {
		x[v] /= float64(distinct)
	}
	for {
		// p += alpha·x and y = (1−alpha)·x·P.
		mass := 0.0
		for u, xu := range x {
			if xu == 0 {
				continue
			}
			p[u] += alpha * xu
			lo, hi := g.Indptr[u], g.Indptr[u+1]
			if lo == hi {
				continue
			}
			w := (1 - alpha) * xu / float64(hi-lo)
			for _, v := range g.Indices[lo:hi] {
				y[v] += w
			}
			mass += (1 - alpha) * xu
		}
		// What is left to add, alpha·Σ_{k≥0} (1−alpha)^k y·P^k, has mass
		// at most that of y.
		if mass <= tol {
			return p, nil
		}
		x, y = y, x
		clear(y)
	}
}
