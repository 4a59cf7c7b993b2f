package ppr

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestNodeWiseErrors checks that every kind of bad input gives an error of
// the documented class and no result.
func TestNodeWiseErrors(t *testing.T) {
	g := randomSymmetric(t, 1, 10, 20, 0, false, true)
	ok := Options{Alpha: 0.25, Eps: 1e-4}
	with := func(f func(*Options)) Options { o := ok; f(&o); return o }
	bad := &graph.CSR{NumNodes: 2, Indptr: []int64{0, 1, 2}, Indices: []int32{1, 5}}
	cases := []struct {
		name    string
		g       *graph.CSR
		targets []int64
		opt     Options
		want    error
		msg     string
	}{
		{"nil graph", nil, []int64{0}, ok, graph.ErrValue, "graph is nil"},
		{"invalid graph", bad, []int64{0}, ok, graph.ErrValue, "invalid graph"},
		{"alpha 0", g, []int64{0}, with(func(o *Options) { o.Alpha = 0 }), graph.ErrValue, "alpha"},
		{"alpha 1", g, []int64{0}, with(func(o *Options) { o.Alpha = 1 }), graph.ErrValue, "alpha"},
		{"alpha negative", g, []int64{0}, with(func(o *Options) { o.Alpha = -0.5 }), graph.ErrValue, "alpha"},
		{"alpha NaN", g, []int64{0}, with(func(o *Options) { o.Alpha = math.NaN() }), graph.ErrValue, "alpha"},
		{"eps 0", g, []int64{0}, with(func(o *Options) { o.Eps = 0 }), graph.ErrValue, "eps"},
		{"eps negative", g, []int64{0}, with(func(o *Options) { o.Eps = -1e-4 }), graph.ErrValue, "eps"},
		{"eps NaN", g, []int64{0}, with(func(o *Options) { o.Eps = math.NaN() }), graph.ErrValue, "eps"},
		{"eps Inf", g, []int64{0}, with(func(o *Options) { o.Eps = math.Inf(1) }), graph.ErrValue, "eps"},
		{"workers negative", g, []int64{0}, with(func(o *Options) { o.Workers = -1 }), graph.ErrValue, "workers"},
		// Issue 12: these never returned. The bound is 1/(alpha·eps).
		{"alpha tiny", g, []int64{0}, with(func(o *Options) { o.Alpha, o.Eps = 1e-9, 1e-5 }), graph.ErrValue, "1/(alpha·eps) = 1e+14 neighbour updates"},
		{"eps denormal", g, []int64{0}, with(func(o *Options) { o.Eps = 5e-324 }), graph.ErrValue, "alpha·eps >= 1e-10"},
		{"product underflows", g, []int64{0}, with(func(o *Options) { o.Alpha, o.Eps = 1e-200, 1e-200 }), graph.ErrValue, "= +Inf neighbour updates"},
		{"just over the bound", g, []int64{0}, with(func(o *Options) { o.Alpha, o.Eps = 0.5, 1.9e-10 }), graph.ErrValue, "for alpha 0.5, eps >= 2e-10"},
		{"no targets", g, nil, ok, graph.ErrValue, "no target nodes"},
		{"empty targets", g, []int64{}, ok, graph.ErrValue, "no target nodes"},
		{"target too large", g, []int64{0, 3, 10}, ok, graph.ErrIndex, "target node 10 (at position 2)"},
		{"target negative", g, []int64{-1}, ok, graph.ErrIndex, "target node -1 (at position 0)"},
		{"empty graph", &graph.CSR{Indptr: []int64{0}}, []int64{0}, ok, graph.ErrIndex, "out of range for 0 nodes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, st, err := NodeWise(c.g, c.targets, c.opt)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want one wrapping %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
			if res != nil || st != (Stats{}) {
				t.Errorf("result %v and stats %v returned with an error", res, st)
			}
		})
	}
}

// TestNodeWiseTopK checks that the top-k rows are the prefixes of the full
// rows, and that they hold the exact top-k up to ties within the error
// bound: for a kept node v and a dropped node w, p(v) ≥ p̂(v) ≥ p̂(w) ≥
// p(w) − eps·deg(w).
func TestNodeWiseTopK(t *testing.T) {
	g := randomSymmetric(t, 9, 300, 1500, 10, true, false)
	targets := sampleNodes(3, g.NumNodes, 40)
	const alpha, eps = 0.2, 1e-4
	full, _, err := NodeWise(g, targets, Options{Alpha: alpha, Eps: eps})
	if err != nil {
		t.Fatal(err)
	}
	exact := exactParallel(t, g, singletons(targets), alpha)
	for _, k := range []int{1, 2, 5, 16, 64, 1000} {
		res, _, err := NodeWise(g, targets, Options{Alpha: alpha, Eps: eps, TopK: k})
		if err != nil {
			t.Fatal(err)
		}
		for i := range targets {
			nodes, scores := res.Row(i)
			fn, fs := full.Row(i)
			m := min(k, len(fn))
			if !slices.Equal(nodes, fn[:m]) || !slices.Equal(scores, fs[:m]) {
				t.Fatalf("k %d, target %d: top-k row is not the prefix of the full row", k, targets[i])
			}
			kept := make([]bool, g.NumNodes)
			minKept := math.Inf(1)
			for _, v := range nodes {
				kept[v] = true
				minKept = min(minKept, exact[i][v])
			}
			maxDropped := math.Inf(-1)
			for w := range g.NumNodes {
				if !kept[w] {
					maxDropped = max(maxDropped, exact[i][w]-eps*float64(g.Degree(w)))
				}
			}
			if minKept < maxDropped-1e-6*minKept-2*exactTol {
				t.Errorf("k %d, target %d: a kept node has exact score %v below a dropped node's %v − eps·deg",
					k, targets[i], minKept, maxDropped)
			}
		}
	}
}

// TestNodeWiseEqualsSetWise checks that NodeWise is SetWise with singleton
// sets.
func TestNodeWiseEqualsSetWise(t *testing.T) {
	g := randomDirected(t, 4, 200, 900)
	targets := sampleNodes(8, g.NumNodes, 50)
	opt := Options{Alpha: 0.3, Eps: 1e-4, TopK: 10}
	a, sa, err := NodeWise(g, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	ptr := make([]int64, len(targets)+1)
	for i := range targets {
		ptr[i+1] = int64(i + 1)
	}
	b, sb, err := SetWise(g, ptr, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Indptr, b.Indptr) || !slices.Equal(a.Nodes, b.Nodes) || !slices.Equal(a.Scores, b.Scores) || sa != sb {
		t.Error("NodeWise and SetWise with singleton sets differ")
	}
}

// TestNodeWiseWeightsIgnored checks that edge weights do not change the
// result.
func TestNodeWiseWeightsIgnored(t *testing.T) {
	g := randomSymmetric(t, 2, 50, 200, 0, false, false)
	opt := Options{Alpha: 0.25, Eps: 1e-4}
	a, _, err := NodeWise(g, []int64{0, 1}, opt)
	if err != nil {
		t.Fatal(err)
	}
	w := *g
	w.Weights = make([]float32, g.NumEdges())
	for i := range w.Weights {
		w.Weights[i] = float32(i%7) + 0.5
	}
	b, _, err := NodeWise(&w, []int64{0, 1}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Nodes, b.Nodes) || !slices.Equal(a.Scores, b.Scores) {
		t.Error("weights changed the result")
	}
}

// TestCheckParams checks the admissible range of alpha and eps at its
// edges and the values used across the project (defaults, tests, benchmarks).
func TestCheckParams(t *testing.T) {
	cases := []struct {
		alpha, eps float64
		ok         bool
	}{
		{0.2, 1e-5, true},  // PyG get_ppr and ibmb defaults
		{0.25, 2e-4, true}, // ibmb train defaults
		{0.25, 1e-4, true}, // IBMB paper
		{0.2, 1e-8, true},  // batch-wise refinement of the default eps (1e-5/1000)
		{0.3, 1e-7, true},  // smallest eps of the tests
		{0.5, 2e-10, true}, // exactly on the bound
		{1e-9, 0.1, true},  // a tiny alpha is fine with a large eps
		{0.5, 1.9e-10, false},
		{1e-9, 1e-5, false},
		{0.2, 5e-324, false},
		{0.2, math.SmallestNonzeroFloat64 * 1e10, false},
		{math.SmallestNonzeroFloat64, 1, false},
		{0, 1e-4, false}, {1, 1e-4, false}, {1.5, 1e-4, false}, {-0.2, 1e-4, false},
		{math.NaN(), 1e-4, false}, {math.Inf(1), 1e-4, false},
		{0.2, 0, false}, {0.2, -1e-4, false}, {0.2, math.NaN(), false}, {0.2, math.Inf(1), false},
	}
	for _, c := range cases {
		err := CheckParams(c.alpha, c.eps)
		if (err == nil) != c.ok {
			t.Errorf("CheckParams(%v, %v) = %v, want ok %v", c.alpha, c.eps, err, c.ok)
		}
		if err != nil && !errors.Is(err, graph.ErrValue) {
			t.Errorf("CheckParams(%v, %v) = %v, want a value error", c.alpha, c.eps, err)
		}
	}
}
