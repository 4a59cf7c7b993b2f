package graph

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseNorm(t *testing.T) {
	tests := []struct {
		in   string
		want Norm
		ok   bool
	}{
		{"none", NormNone, true},
		{"rw", NormRow, true},
		{"row", NormRow, true},
		{"sym", NormSym, true},
		{" SYM ", NormSym, true},
		{"Row", NormRow, true},
		{"", 0, false},
		{"gcn", 0, false},
		{"symmetric", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseNorm(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("ParseNorm(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, ErrValue) {
			t.Errorf("ParseNorm(%q) error = %v, want ErrValue", tc.in, err)
		}
	}
}

func TestNormString(t *testing.T) {
	tests := []struct {
		n    Norm
		want string
	}{{NormNone, "none"}, {NormRow, "rw"}, {NormSym, "sym"}, {Norm(9), "Norm(9)"}}
	for _, tc := range tests {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("%d.String() = %q, want %q", int(tc.n), got, tc.want)
		}
		if n, err := ParseNorm(tc.want); err == nil && n != tc.n {
			t.Errorf("ParseNorm(%q) = %v, want %v", tc.want, n, tc.n)
		}
	}
}

func TestNormalizedSmall(t *testing.T) {
	// Graph: 0→1, 0→2, 1→2, 2→0, 2→3; node 3 has no out-edges.
	// Out-degrees: d = [2, 1, 2, 0].
	//   rw:  w_uv = 1/d_u           → [1/2, 1/2, 1, 1/2, 1/2]
	//   sym: w_uv = 1/sqrt(d_u d_v) → 0→1: 1/√2, 0→2: 1/√4 = 1/2,
	//        1→2: 1/√2, 2→0: 1/2, 2→3: d_3 = 0 so 1/√d_3 := 0 → 0.
	g := &CSR{NumNodes: 4, Indptr: []int64{0, 2, 3, 5, 5}, Indices: []int32{1, 2, 2, 0, 3}}
	// The same structure with weights 1, 3, 2, 0.5, 0.5:
	// weighted degrees d = [4, 2, 1, 0].
	//   rw:  [1/4, 3/4, 2/2, 0.5/1, 0.5/1]
	//   sym: 0→1: 1/√8, 0→2: 3/√4 = 1.5, 1→2: 2/√2 = √2,
	//        2→0: 0.5/√4 = 0.25, 2→3: 0.
	gw := &CSR{NumNodes: 4, Indptr: g.Indptr, Indices: g.Indices, Weights: []float32{1, 3, 2, 0.5, 0.5}}
	r2 := 1 / math.Sqrt2
	tests := []struct {
		name string
		g    *CSR
		norm Norm
		want []float64
	}{
		{"none", g, NormNone, []float64{1, 1, 1, 1, 1}},
		{"rw", g, NormRow, []float64{0.5, 0.5, 1, 0.5, 0.5}},
		{"sym", g, NormSym, []float64{r2, 0.5, r2, 0.5, 0}},
		{"weighted none", gw, NormNone, []float64{1, 3, 2, 0.5, 0.5}},
		{"weighted rw", gw, NormRow, []float64{0.25, 0.75, 1, 0.5, 0.5}},
		{"weighted sym", gw, NormSym, []float64{1 / math.Sqrt(8), 1.5, math.Sqrt2, 0.25, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.g.Normalized(tc.norm)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("len = %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if math.Abs(float64(got[i])-tc.want[i]) > 1e-6 {
					t.Errorf("w[%d] = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
	// NormNone must return a copy, never the graph's own weights.
	w, _ := gw.Normalized(NormNone)
	w[0] = 42
	if gw.Weights[0] != 1 {
		t.Error("Normalized(NormNone) aliases g.Weights")
	}
}

func TestNormalizedEmpty(t *testing.T) {
	for _, g := range []*CSR{
		{Indptr: []int64{0}},
		{NumNodes: 3, Indptr: []int64{0, 0, 0, 0}},
	} {
		for _, n := range []Norm{NormNone, NormRow, NormSym} {
			w, err := g.Normalized(n)
			if err != nil || len(w) != 0 {
				t.Errorf("%d nodes, %v: got %v, %v; want [], nil", g.NumNodes, n, w, err)
			}
		}
	}
}

func TestNormalizedMatchesDense(t *testing.T) {
	for seed := range uint64(4) {
		g := randomWeighted(seed, 30, 120)
		if seed%2 == 1 {
			g.Weights = nil
		}
		a := denseOf(g)
		n := g.NumNodes
		deg := make([]float64, n)
		for u := range n {
			for v := range n {
				deg[u] += a[u][v]
			}
		}
		for _, norm := range []Norm{NormRow, NormSym} {
			// Dense reference: M = L·A·R with diagonal L and R:
			// rw: L = D⁻¹, R = I; sym: L = R = D^-½ (0 where d = 0).
			l := make([]float64, n)
			r := make([]float64, n)
			for u := range n {
				r[u] = 1
				if deg[u] == 0 {
					l[u], r[u] = 0, 0
					continue
				}
				if norm == NormRow {
					l[u] = 1 / deg[u]
				} else {
					l[u] = 1 / math.Sqrt(deg[u])
					r[u] = l[u]
				}
			}
			w, err := g.Normalized(norm)
			if err != nil {
				t.Fatal(err)
			}
			// Sum the per-edge weights into a dense matrix and compare.
			got := make([][]float64, n)
			for u := range got {
				got[u] = make([]float64, n)
				for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
					got[u][g.Indices[p]] += float64(w[p])
				}
			}
			for u := range n {
				for v := range n {
					want := l[u] * a[u][v] * r[v]
					if norm == NormRow && deg[v] == 0 {
						// In rw the column factor is 1 even for d_v = 0.
						want = l[u] * a[u][v]
					}
					if math.Abs(got[u][v]-want) > 1e-5*max(1, math.Abs(want)) {
						t.Fatalf("seed %d %v: M[%d][%d] = %v, want %v", seed, norm, u, v, got[u][v], want)
					}
				}
			}
			if norm == NormRow {
				for u := range n {
					sum := 0.0
					for v := range n {
						sum += got[u][v]
					}
					if deg[u] != 0 && math.Abs(sum-1) > 1e-5 {
						t.Fatalf("seed %d: rw row %d sums to %v", seed, u, sum)
					}
				}
			}
		}
	}
}

func TestNormalizedErrors(t *testing.T) {
	g := diamond()
	tests := []struct {
		name   string
		g      *CSR
		norm   Norm
		target error
		substr string
	}{
		{"unknown norm", g, Norm(7), ErrValue, "unknown normalization Norm(7)"},
		{"negative norm", g, Norm(-1), ErrValue, "unknown normalization"},
		{"short indptr", &CSR{NumNodes: 3, Indptr: []int64{0, 0}}, NormRow, ErrValue, "indptr has length 2"},
		{"indptr end", &CSR{NumNodes: 1, Indptr: []int64{0, 2}, Indices: []int32{0}}, NormRow, ErrValue, "there are 1 indices"},
		{"weights length", &CSR{NumNodes: 1, Indptr: []int64{0, 1}, Indices: []int32{0}, Weights: []float32{1, 2}}, NormNone, ErrValue, "weights has length 2"},
		{"negative degree", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 3}, Indices: []int32{1, 0, 1}, Weights: []float32{1, 0.5, -2}},
			NormSym, ErrValue, "node 1 has negative weighted degree -1.5"},
		{"column out of range", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{5}}, NormSym, ErrIndex, "indices[0] is 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.g.Normalized(tc.norm)
			if !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("Normalized = %v, want %v mentioning %q", err, tc.target, tc.substr)
			}
		})
	}
	// Negative degrees are fine for rw: w = a/d.
	neg := &CSR{NumNodes: 1, Indptr: []int64{0, 2}, Indices: []int32{0, 0}, Weights: []float32{1, -3}}
	w, err := neg.Normalized(NormRow)
	if err != nil || w[0] != -0.5 || w[1] != 1.5 {
		t.Errorf("rw with negative degree = %v, %v; want [-0.5 1.5], nil", w, err)
	}
}

func TestNormalizedParallelMatchesSerial(t *testing.T) {
	// Above parallelMinEdges the work is split over rows; compare with a
	// direct per-edge computation.
	g := randomWeighted(9, 5000, parallelMinEdges+1000)
	deg := make([]float64, g.NumNodes)
	for u := range g.NumNodes {
		for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
			deg[u] += float64(g.Weights[p])
		}
	}
	w, err := g.Normalized(NormSym)
	if err != nil {
		t.Fatal(err)
	}
	for u := range g.NumNodes {
		for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
			v := g.Indices[p]
			want := float32(float64(g.Weights[p]) / math.Sqrt(deg[u]*deg[v]))
			if math.Abs(float64(w[p]-want)) > 1e-6*float64(want) {
				t.Fatalf("edge %d (%d→%d): %v, want %v", p, u, v, w[p], want)
			}
		}
	}
}

func BenchmarkNormalized(b *testing.B) {
	src, dst := benchEdges(100_000, 1_000_000)
	g, err := FromCOO(src, dst, 100_000, Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []Norm{NormRow, NormSym} {
		b.Run(n.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := g.Normalized(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
