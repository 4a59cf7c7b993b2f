package ppr

import (
	"math"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"gonum.org/v1/gonum/mat"
)

// denseSolve computes the PPR vector of the uniform teleport over set by
// solving the linear system it is the solution of, with an LU
// factorization (gonum): p = alpha·s + (1−alpha)·p·P, that is
// (I − (1−alpha)·P)ᵀ pᵀ = alpha·sᵀ, with P = D⁻¹A the unweighted walk
// matrix (zero rows for nodes without out-edges), parallel edges counted
// with their multiplicity. It is independent of Exact's series.
func denseSolve(t *testing.T, g *graph.CSR, set []int64, alpha float64) []float64 {
	t.Helper()
	n := g.NumNodes
	m := mat.NewDense(n, n, nil)
	for v := range n {
		m.Set(v, v, 1)
	}
	for u := range n {
		lo, hi := g.Indptr[u], g.Indptr[u+1]
		for _, v := range g.Indices[lo:hi] {
			// Row v of the transposed system gets −(1−alpha)·P[u][v].
			m.Set(int(v), u, m.At(int(v), u)-(1-alpha)/float64(hi-lo))
		}
	}
	b := mat.NewVecDense(n, nil)
	distinct := map[int64]bool{}
	for _, s := range set {
		distinct[s] = true
	}
	for s := range distinct {
		b.SetVec(int(s), alpha/float64(len(distinct)))
	}
	var x mat.VecDense
	if err := x.SolveVec(m, b); err != nil {
		t.Fatalf("dense solve: %v", err)
	}
	return x.RawVector().Data
}

// TestExactMatchesDenseSolve holds the reference itself to a second,
// independent one: Exact's truncated series and a direct linear solve agree
// to within Exact's tolerance on undirected, directed and dangling-node
// graphs and on target sets with repeated nodes.
func TestExactMatchesDenseSolve(t *testing.T) {
	for _, c := range []struct {
		name  string
		g     *graph.CSR
		set   []int64
		alpha float64
	}{
		{"undirected", randomSymmetric(t, 11, 60, 200, 3, false, true), []int64{0}, 0.25},
		{"undirected, parallel edges and self-loops", randomSymmetric(t, 12, 40, 150, 0, true, false), []int64{5}, 0.15},
		{"directed with dangling nodes", randomDirected(t, 13, 50, 120), []int64{1, 2, 2, 7}, 0.2},
		{"isolated target", randomSymmetric(t, 14, 30, 60, 4, false, true), []int64{29}, 0.5},
	} {
		const tol = 1e-13
		got, err := Exact(c.g, c.set, c.alpha, tol)
		if err != nil {
			t.Fatal(err)
		}
		want := denseSolve(t, c.g, c.set, c.alpha)
		worst := 0.0
		for v := range want {
			worst = math.Max(worst, math.Abs(want[v]-got[v]))
		}
		if worst > 1e-10 {
			t.Errorf("%s: Exact and the dense solve differ by up to %g", c.name, worst)
		}
	}
}
