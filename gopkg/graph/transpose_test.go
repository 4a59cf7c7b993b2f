package graph

import (
	"slices"
	"testing"
)

func TestTransposeSmall(t *testing.T) {
	tests := []struct {
		name string
		g    *CSR
		want *CSR
	}{
		{
			// diamond: 0→1, 0→2, 1→3, 2→3, 3→3. Reversed: 1→0, 2→0,
			// 3→1, 3→2, 3→3, so row 3 is {1, 2, 3}.
			name: "diamond",
			g:    diamond(),
			want: &CSR{NumNodes: 5, Indptr: []int64{0, 0, 1, 2, 5, 5}, Indices: []int32{0, 0, 1, 2, 3}},
		},
		{
			// 0→1 (w 1), 0→1 (w 2), 2→1 (w 3): row 1 of the reverse is
			// {0, 0, 2} with weights {1, 2, 3}.
			name: "weighted parallel",
			g:    &CSR{NumNodes: 3, Indptr: []int64{0, 2, 2, 3}, Indices: []int32{1, 1, 1}, Weights: []float32{1, 2, 3}},
			want: &CSR{NumNodes: 3, Indptr: []int64{0, 0, 3, 3}, Indices: []int32{0, 0, 2}, Weights: []float32{1, 2, 3}},
		},
		{
			name: "empty",
			g:    &CSR{Indptr: []int64{0}},
			want: &CSR{Indptr: []int64{0}, Indices: []int32{}},
		},
		{
			name: "isolated",
			g:    &CSR{NumNodes: 2, Indptr: []int64{0, 0, 0}},
			want: &CSR{NumNodes: 2, Indptr: []int64{0, 0, 0}, Indices: []int32{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.g.Transpose()
			if d := diffCSR(got, tc.want); d != "" {
				t.Fatal(d)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTransposeRandom(t *testing.T) {
	for seed := range uint64(5) {
		g := randomWeighted(seed, 200, 2000)
		tr := g.Transpose()
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		// Reference: build the reverse edge list and let FromCOO sort it.
		var src, dst []int64
		for u := range g.NumNodes {
			for _, v := range g.Row(u) {
				src, dst = append(src, int64(v)), append(dst, int64(u))
			}
		}
		ref, err := FromCOO(src, dst, g.NumNodes, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tr.Indptr, ref.Indptr) || !slices.Equal(tr.Indices, ref.Indices) {
			t.Fatalf("seed %d: transpose structure differs from reference", seed)
		}
		// In-degrees of g are out-degrees of the transpose.
		in := make([]int64, g.NumNodes)
		for _, v := range g.Indices {
			in[v]++
		}
		if !slices.Equal(tr.Degrees(), in) {
			t.Fatalf("seed %d: transpose degrees are not the in-degrees", seed)
		}
		// Transposing twice restores g, weights included.
		if d := diffCSR(tr.Transpose(), g); d != "" {
			t.Fatalf("seed %d: double transpose: %s", seed, d)
		}
	}
}

func TestIsSymmetric(t *testing.T) {
	tests := []struct {
		name string
		g    *CSR
		want bool
	}{
		{"empty", &CSR{Indptr: []int64{0}}, true},
		{"isolated", &CSR{NumNodes: 3, Indptr: []int64{0, 0, 0, 0}}, true},
		{"loops only", &CSR{NumNodes: 2, Indptr: []int64{0, 2, 3}, Indices: []int32{0, 0, 1}}, true},
		{"edge pair", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 2}, Indices: []int32{1, 0}}, true},
		{"one way", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{1}}, false},
		// 0→1 twice but 1→0 once: multiplicities differ.
		{"multiplicity", &CSR{NumNodes: 2, Indptr: []int64{0, 2, 3}, Indices: []int32{1, 1, 0}}, false},
		{"multiplicity match", &CSR{NumNodes: 2, Indptr: []int64{0, 2, 4}, Indices: []int32{1, 1, 0, 0}}, true},
		{"diamond", diamond(), false},
		// Weights are ignored.
		{"weights differ", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 2}, Indices: []int32{1, 0}, Weights: []float32{1, 2}}, true},
	}
	for _, tc := range tests {
		if got := tc.g.IsSymmetric(); got != tc.want {
			t.Errorf("%s: IsSymmetric() = %t, want %t", tc.name, got, tc.want)
		}
	}
	src, dst := randomCOO(11, 500, 4000)
	for _, opt := range allOptions() {
		g, err := FromCOO(src, dst, 500, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.IsSymmetric(); got != opt.Symmetrize {
			t.Errorf("random graph %+v: IsSymmetric() = %t, want %t", opt, got, opt.Symmetrize)
		}
	}
}

func BenchmarkTranspose(b *testing.B) {
	src, dst := benchEdges(100_000, 1_000_000)
	g, err := FromCOO(src, dst, 100_000, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g.Transpose()
	}
}
