package ppr

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
	"github.com/ibmb-dev/ibmb/internal/shareddata"
)

// randomSymmetric returns a random symmetric graph on n nodes with about e
// undirected edges drawn uniformly among the first n−isolated nodes (the
// last isolated nodes have no edges). Random self-loops are kept when
// selfLoops is set, and parallel edges unless dedup is set.
func randomSymmetric(t testing.TB, seed uint64, n, e, isolated int, selfLoops, dedup bool) *graph.CSR {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x99))
	m := n - isolated
	src := make([]int64, 0, e)
	dst := make([]int64, 0, e)
	for range e {
		u, v := r.Int64N(int64(m)), r.Int64N(int64(m))
		if u == v && !selfLoops {
			continue
		}
		src = append(src, u)
		dst = append(dst, v)
	}
	g, err := graph.FromCOO(src, dst, n, graph.Options{Symmetrize: true, DropDuplicates: dedup, AddSelfLoops: false})
	if err != nil {
		t.Fatal(err)
	}
	if !g.IsSymmetric() {
		t.Fatal("randomSymmetric built an asymmetric graph")
	}
	return g
}

// randomDirected returns a random directed graph with parallel edges and
// self-loops.
func randomDirected(t testing.TB, seed uint64, n, e int) *graph.CSR {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x77))
	src := make([]int64, e)
	dst := make([]int64, e)
	for i := range e {
		src[i], dst[i] = r.Int64N(int64(n)), r.Int64N(int64(n))
	}
	g, err := graph.FromCOO(src, dst, n, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// rmatSymmetric returns a symmetrized, duplicate-free R-MAT graph.
func rmatSymmetric(t testing.TB, scale int, edgeFactor float64) *graph.CSR {
	t.Helper()
	sg, err := synth.DefaultRMAT(scale, edgeFactor).Generate()
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.FromCOO(sg.Src, sg.Dst, sg.NumNodes, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// loadKarateclub returns the karateclub graph name from the shared data
// folder as a simple undirected graph, skipping the test when it is absent.
// The graph is shared and must not be modified.
func loadKarateclub(t testing.TB, name string) *graph.CSR {
	t.Helper()
	g, err := shareddata.Karateclub(name)
	if err != nil {
		t.Skipf("%s graph not available (%v); set IBMB_DATA to the shared data folder to run this test", name, err)
	}
	return g
}

// dense expands row i of res into a dense vector of length n.
func dense(res *Result, i, n int) []float64 {
	d := make([]float64, n)
	nodes, scores := res.Row(i)
	for j, v := range nodes {
		d[v] = float64(scores[j])
	}
	return d
}

// checkRow verifies the structural invariants of row i of res: nodes in
// range and distinct, scores positive and finite, order by descending score
// then ascending node.
func checkRow(t testing.TB, res *Result, i, n int) {
	t.Helper()
	nodes, scores := res.Row(i)
	seen := map[int32]bool{}
	for j, v := range nodes {
		s := scores[j]
		if v < 0 || int(v) >= n {
			t.Fatalf("row %d: node %d out of range", i, v)
		}
		if seen[v] {
			t.Fatalf("row %d: node %d repeated", i, v)
		}
		seen[v] = true
		if !(s > 0) || math.IsInf(float64(s), 0) {
			t.Fatalf("row %d: node %d has score %v", i, v, s)
		}
		if j > 0 && !before(entry{scores[j-1], nodes[j-1]}, entry{s, v}) {
			t.Fatalf("row %d: entries %d and %d out of order: (%d, %v) then (%d, %v)", i, j-1, j, nodes[j-1], scores[j-1], v, s)
		}
	}
}

// exactTol is the tolerance of the reference vectors.
const exactTol = 1e-12

// checkBound verifies 0 ≤ p(v) − p̂(v) ≤ eps·deg(v) for every node, up to the
// float32 rounding of p̂ and the tolerance of the reference p, and returns
// the largest ratio (p − p̂)/(eps·deg) seen over nodes with deg > 0.
func checkBound(t testing.TB, g *graph.CSR, what string, est, exact []float64, eps float64) float64 {
	t.Helper()
	worst := 0.0
	for v := range exact {
		d := float64(g.Degree(v))
		slack := 2*exactTol + 1e-7*exact[v] + 1e-30
		diff := exact[v] - est[v]
		if diff > eps*d+slack || diff < -slack {
			t.Fatalf("%s: node %d (degree %v): exact %.12g, push %.12g, difference %.3g outside [0, eps·deg = %.3g]",
				what, v, d, exact[v], est[v], diff, eps*d)
		}
		if d > 0 {
			worst = max(worst, diff/(eps*d))
		}
	}
	return worst
}

// sampleNodes returns k node ids drawn uniformly (with repetition) from
// [0, n), deterministically.
func sampleNodes(seed uint64, n, k int) []int64 {
	r := rand.New(rand.NewPCG(seed, 0x5a))
	s := make([]int64, k)
	for i := range s {
		s[i] = r.Int64N(int64(n))
	}
	return s
}

// exactParallel computes Exact for every set, in parallel.
func exactParallel(t testing.TB, g *graph.CSR, sets [][]int64, alpha float64) [][]float64 {
	t.Helper()
	out := make([][]float64, len(sets))
	errs := make([]error, len(sets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, s := range sets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = Exact(g, s, alpha, exactTol)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Exact for set %d: %v", i, err)
		}
	}
	return out
}

// singletons returns one target set per target.
func singletons(targets []int64) [][]int64 {
	sets := make([][]int64, len(targets))
	for i, s := range targets {
		sets[i] = []int64{s}
	}
	return sets
}
