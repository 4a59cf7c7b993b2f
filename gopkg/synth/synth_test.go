package synth

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

func TestCSBMDeterministicAcrossThreads(t *testing.T) {
	cfg := CSBM{NumNodes: 50_000, NumClasses: 7, AvgDegree: 3, Homophily: 0.7, NumFeatures: 5, Separation: 1, Seed: 42}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	a, err := cfg.Generate()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(4)
	b, err := cfg.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Src, b.Src) || !slices.Equal(a.Dst, b.Dst) || !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) {
		t.Fatal("output depends on GOMAXPROCS")
	}
}

func TestCSBMStatistics(t *testing.T) {
	cfg := CSBM{NumNodes: 20_000, NumClasses: 4, AvgDegree: 10, Homophily: 0.8, NumFeatures: 3, Separation: 2, Seed: 1}
	g, err := cfg.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Src) != 200_000 || len(g.X) != 60_000 {
		t.Fatalf("sizes: %d edges, %d features", len(g.Src), len(g.X))
	}
	same := 0
	for i := range g.Src {
		if g.Src[i] < 0 || g.Src[i] >= 20_000 || g.Dst[i] < 0 || g.Dst[i] >= 20_000 {
			t.Fatalf("edge %d out of range", i)
		}
		if g.Y[g.Src[i]] == g.Y[g.Dst[i]] {
			same++
		}
	}
	// Expected share of intra-class edges: h + (1-h)/k = 0.8 + 0.2/4 = 0.85.
	if frac := float64(same) / float64(len(g.Src)); math.Abs(frac-0.85) > 0.01 {
		t.Fatalf("intra-class edge share %.4f, want 0.85±0.01", frac)
	}
}

func TestRMAT(t *testing.T) {
	cfg := DefaultRMAT(12, 8)
	cfg.NumFeatures, cfg.NumClasses, cfg.Seed = 2, 3, 9
	g, err := cfg.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if g.NumNodes != 4096 || len(g.Src) != 4096*8 || len(g.X) != 8192 {
		t.Fatalf("sizes %d %d %d", g.NumNodes, len(g.Src), len(g.X))
	}
	deg := make([]int, g.NumNodes)
	for i := range g.Src {
		if g.Src[i] < 0 || g.Src[i] >= 4096 || g.Dst[i] < 0 || g.Dst[i] >= 4096 {
			t.Fatalf("edge %d out of range", i)
		}
		deg[g.Src[i]]++
	}
	// Skew: with a=0.57 the busiest node has far more than the mean of 8 edges.
	if mx := slices.Max(deg); mx < 80 {
		t.Fatalf("max out-degree %d: not skewed", mx)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []CSBM{
		{NumNodes: 0, NumClasses: 1},
		{NumNodes: 10, NumClasses: 11},
		{NumNodes: 10, NumClasses: 2, AvgDegree: math.NaN()},
		{NumNodes: 10, NumClasses: 2, Homophily: 1.5},
		{NumNodes: 10, NumClasses: 2, NumFeatures: -1},
	} {
		if _, err := cfg.Generate(); !errors.Is(err, ErrValue) {
			t.Errorf("%+v: got %v, want ErrValue", cfg, err)
		}
	}
	for _, cfg := range []RMAT{{Scale: 0, NumClasses: 1}, {Scale: 4, A: 0.9, B: 0.2, NumClasses: 1}, {Scale: 4, NumClasses: 0}} {
		if _, err := cfg.Generate(); !errors.Is(err, ErrValue) {
			t.Errorf("%+v: got %v, want ErrValue", cfg, err)
		}
	}
}

func BenchmarkCSBM(b *testing.B) {
	cfg := DefaultCSBM()
	for b.Loop() {
		if _, err := cfg.Generate(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSmallGraphs: each named graph is the symmetric graph FromCOO builds
// from its edge list (written out here from the pictures in the docs),
// valid, and a fresh copy on every call.
func TestSmallGraphs(t *testing.T) {
	tests := []struct {
		name     string
		make     func() *graph.CSR
		n        int
		src, dst []int64
	}{
		{"Path4", Path4, 4, []int64{0, 1, 2}, []int64{1, 2, 3}},
		{"Barbell", Barbell, 6, []int64{0, 0, 1, 2, 3, 3, 4}, []int64{1, 2, 2, 3, 4, 5, 5}},
		{"Lollipop", Lollipop, 5, []int64{0, 0, 1, 2, 3}, []int64{1, 2, 2, 3, 4}},
	}
	for _, tc := range tests {
		want, err := graph.FromCOO(tc.src, tc.dst, tc.n, graph.Options{Symmetrize: true})
		if err != nil {
			t.Fatal(err)
		}
		g := tc.make()
		if err := g.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if g.NumNodes != want.NumNodes || !slices.Equal(g.Indptr, want.Indptr) || !slices.Equal(g.Indices, want.Indices) || g.Weights != nil {
			t.Fatalf("%s: %+v, want %+v", tc.name, g, want)
		}
		g.Indices[0] = 99
		if tc.make().Indices[0] == 99 {
			t.Fatalf("%s: calls share storage", tc.name)
		}
	}
}
