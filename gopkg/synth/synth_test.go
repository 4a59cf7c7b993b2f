package synth

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"
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
