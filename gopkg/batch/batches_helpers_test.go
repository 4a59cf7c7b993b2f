package batch

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
	"github.com/ibmb-dev/ibmb/internal/shareddata"
)

// randomGraph returns a simple symmetric random graph with about m
// undirected edges on n nodes.
func randomGraph(t testing.TB, seed uint64, n, m int) *graph.CSR {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	src, dst := make([]int64, m), make([]int64, m)
	for i := range m {
		src[i], dst[i] = r.Int64N(int64(n)), r.Int64N(int64(n))
	}
	g, err := graph.FromCOO(src, dst, n, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// csbmGraph returns a symmetric CSBM graph and its labels.
func csbmGraph(t testing.TB, n, classes int, deg, homophily float64) (*graph.CSR, []int64) {
	t.Helper()
	sg, err := synth.CSBM{NumNodes: n, NumClasses: classes, AvgDegree: deg, Homophily: homophily, Seed: 7}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.FromCOO(sg.Src, sg.Dst, n, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	return g, sg.Y
}

// loadGithub returns the GitHub graph from the shared data folder as a
// simple undirected graph, skipping the test or benchmark when it is absent.
// The graph is shared and must not be modified.
func loadGithub(t testing.TB) *graph.CSR {
	t.Helper()
	g, err := shareddata.Karateclub("github")
	if err != nil {
		t.Skipf("GitHub graph not available (%v); set IBMB_DATA to the shared data folder to run this", err)
	}
	return g
}

// iota64 returns 0 … n-1.
func iota64(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i)
	}
	return s
}

// sample returns m distinct nodes of [0, n) in random order.
func sample(seed uint64, n, m int) []int64 {
	r := rand.New(rand.NewPCG(seed, 2))
	p := r.Perm(n)[:m]
	s := make([]int64, m)
	for i, v := range p {
		s[i] = int64(v)
	}
	return s
}

// scramble returns outputs shuffled with about a third of them repeated.
func scramble(seed uint64, outputs []int64) []int64 {
	r := rand.New(rand.NewPCG(seed, 3))
	s := slices.Clone(outputs)
	for i := 0; i < len(outputs); i += 3 {
		s = append(s, outputs[i])
	}
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// contains reports whether sorted contains v.
func contains(sorted []int64, v int64) bool {
	_, ok := slices.BinarySearch(sorted, v)
	return ok
}

// sameBatches fails unless a and b are identical.
func sameBatches(t *testing.T, what string, a, b *Batches) {
	t.Helper()
	if !slices.Equal(a.OutPtr, b.OutPtr) || !slices.Equal(a.Out, b.Out) ||
		!slices.Equal(a.NodePtr, b.NodePtr) || !slices.Equal(a.Nodes, b.Nodes) {
		t.Fatalf("%s: batches differ (%d vs %d batches, %d vs %d nodes)", what,
			a.NumBatches(), b.NumBatches(), len(a.Nodes), len(b.Nodes))
	}
}
