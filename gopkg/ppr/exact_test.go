package ppr

import (
	"errors"
	"math"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestExactClosedForm checks Exact against vectors known in closed form.
func TestExactClosedForm(t *testing.T) {
	edge, _ := graph.FromCOO([]int64{0}, []int64{1}, 2, graph.Options{Symmetrize: true})
	// 0 → 1 → 2 with 2 a sink; 3 isolated.
	path, _ := graph.FromCOO([]int64{0, 1}, []int64{1, 2}, 4, graph.Options{})
	loop, _ := graph.FromCOO([]int64{0}, []int64{0}, 1, graph.Options{})
	const a = 0.25
	cases := []struct {
		name string
		g    *graph.CSR
		set  []int64
		want []float64
	}{
		// On a single edge the walk alternates: p(0) = a·Σ_even (1−a)^k.
		{"edge", edge, []int64{0}, []float64{1 / (2 - a), (1 - a) / (2 - a)}},
		{"edge both", edge, []int64{0, 1, 1}, []float64{0.5, 0.5}},
		{"path", path, []int64{0}, []float64{a, a * (1 - a), a * (1 - a) * (1 - a), 0}},
		{"isolated", path, []int64{3}, []float64{0, 0, 0, a}},
		{"self-loop", loop, []int64{0}, []float64{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Exact(c.g, c.set, a, 1e-14)
			if err != nil {
				t.Fatal(err)
			}
			for v := range c.want {
				if math.Abs(got[v]-c.want[v]) > 1e-13 {
					t.Errorf("p(%d) = %.15g, want %.15g", v, got[v], c.want[v])
				}
			}
		})
	}
}

// TestExactMass checks that Exact sums to one on a graph without sinks.
func TestExactMass(t *testing.T) {
	g := randomSymmetric(t, 3, 200, 800, 0, true, false)
	for u := range g.NumNodes {
		if g.Degree(u) == 0 {
			t.Skip("random graph has a sink")
		}
	}
	p, err := Exact(g, []int64{0, 5}, 0.1, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, x := range p {
		s += x
	}
	if math.Abs(s-1) > 1e-11 {
		t.Errorf("Exact sums to %.15g", s)
	}
}

// TestExactErrors checks Exact's input validation.
func TestExactErrors(t *testing.T) {
	g := randomSymmetric(t, 1, 10, 20, 0, false, true)
	cases := []struct {
		name       string
		g          *graph.CSR
		set        []int64
		alpha, tol float64
		want       error
	}{
		{"nil graph", nil, []int64{0}, 0.2, 1e-9, graph.ErrValue},
		{"alpha", g, []int64{0}, 1, 1e-9, graph.ErrValue},
		{"tol zero", g, []int64{0}, 0.2, 0, graph.ErrValue},
		{"tol NaN", g, []int64{0}, 0.2, math.NaN(), graph.ErrValue},
		{"empty set", g, nil, 0.2, 1e-9, graph.ErrValue},
		{"out of range", g, []int64{10}, 0.2, 1e-9, graph.ErrIndex},
	}
	for _, c := range cases {
		if _, err := Exact(c.g, c.set, c.alpha, c.tol); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want one wrapping %v", c.name, err, c.want)
		}
	}
}
