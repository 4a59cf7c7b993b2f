package graph

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestInduceSmall(t *testing.T) {
	// diamond: 0→1, 0→2, 1→3, 2→3, 3→3, node 4 isolated.
	g := diamond()
	tests := []struct {
		name    string
		nodes   []int64
		indptr  []int64
		indices []int32
	}{
		// Local ids: 3→0, 0→1, 1→2. Kept: 0→1 (=1→2), 1→3 (=2→0),
		// 3→3 (=0→0). Rows: 0:{0}, 1:{2}, 2:{0}.
		{"unsorted", []int64{3, 0, 1}, []int64{0, 1, 2, 3}, []int32{0, 2, 0}},
		// Local ids 0..4 in global order: the whole graph again.
		{"all", []int64{0, 1, 2, 3, 4}, []int64{0, 2, 3, 4, 5, 5}, []int32{1, 2, 3, 3, 3}},
		// Reversed order: local = 4 - global. Row i is node 4-i:
		// node 4: {}, node 3: {3→local 1}, node 2: {3→1}, node 1: {3→1},
		// node 0: {1→3, 2→2} sorted → {2, 3}.
		{"reversed", []int64{4, 3, 2, 1, 0}, []int64{0, 0, 1, 2, 3, 5}, []int32{1, 1, 1, 2, 3}},
		// 0 and 4 share no edges.
		{"no edges", []int64{4, 0}, []int64{0, 0, 0}, []int32{}},
		{"single loop", []int64{3}, []int64{0, 1}, []int32{0}},
		{"empty batch", []int64{}, []int64{0}, []int32{}},
	}
	in := NewInducer(g)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := &CSR{NumNodes: len(tc.nodes), Indptr: tc.indptr, Indices: tc.indices}
			for _, f := range []func([]int64) (*CSR, error){in.Induce, g.Induced} {
				got, err := f(tc.nodes)
				if err != nil {
					t.Fatal(err)
				}
				if d := diffCSR(got, want); d != "" {
					t.Fatal(d)
				}
				if err := got.Validate(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestInduceErrors(t *testing.T) {
	g := diamond()
	in := NewInducer(g)
	tests := []struct {
		name   string
		nodes  []int64
		target error
		msg    string
	}{
		{"negative", []int64{1, 2, -1}, ErrIndex, "index error: nodes[2] is negative: -1"},
		{"too large", []int64{0, 5}, ErrIndex, "index error: nodes[1] is 5 but num_nodes is 5"},
		{"duplicate", []int64{3, 1, 4, 1}, ErrValue, "value error: node 1 appears twice in nodes, at positions 1 and 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := in.Induce(tc.nodes)
			if sub != nil || !errors.Is(err, tc.target) || err.Error() != tc.msg {
				t.Fatalf("Induce = %v, %v; want nil, %q", sub, err, tc.msg)
			}
			// The scratch map must be clean again.
			for v, l := range in.local {
				if l != -1 {
					t.Fatalf("after error, local[%d] = %d, want -1", v, l)
				}
			}
			if _, err := g.Induced(tc.nodes); !errors.Is(err, tc.target) {
				t.Fatalf("Induced error = %v, want %v", err, tc.target)
			}
		})
	}
	// The Inducer still works after the errors.
	sub, err := in.Induce([]int64{0, 1})
	if err != nil || sub.NumEdges() != 1 {
		t.Fatalf("Induce after errors = %v, %v", sub, err)
	}
}

func TestInduceMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		n, e     int
		weighted bool
	}{{20, 60, false}, {20, 200, true}, {300, 3000, true}, {300, 3000, false}} {
		var g *CSR
		if tc.weighted {
			g = randomWeighted(uint64(tc.n+tc.e), tc.n, tc.e)
		} else {
			src, dst := randomCOO(uint64(tc.n*tc.e), tc.n, tc.e)
			g, _ = FromCOO(src, dst, tc.n, Options{Symmetrize: true})
		}
		in := NewInducer(g)
		for trial := range 20 {
			k := r.IntN(min(tc.n, 60) + 1)
			nodes := make([]int64, k)
			for i, v := range r.Perm(tc.n)[:k] {
				nodes[i] = int64(v)
			}
			if trial%3 == 0 {
				nodes = sortedCopy(nodes)
			}
			name := fmt.Sprintf("n=%d e=%d weighted=%t trial %d", tc.n, tc.e, tc.weighted, trial)
			got, err := in.Induce(nodes)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d := diffCSR(got, bruteInduced(g, nodes)); d != "" {
				t.Fatalf("%s: %s", name, d)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}

func TestInduceAllocations(t *testing.T) {
	for _, weighted := range []bool{false, true} {
		g := randomWeighted(5, 2000, 20000)
		if !weighted {
			g.Weights = nil
		}
		in := NewInducer(g)
		r := rand.New(rand.NewPCG(1, 2))
		batches := make([][]int64, 8)
		for i := range batches {
			for _, v := range r.Perm(2000)[:500] {
				batches[i] = append(batches[i], int64(v))
			}
		}
		for _, b := range batches { // warm up the scratch buffers
			if _, err := in.Induce(b); err != nil {
				t.Fatal(err)
			}
		}
		i := 0
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := in.Induce(batches[i%len(batches)]); err != nil {
				t.Fatal(err)
			}
			i++
		})
		// The result: the CSR header, Indptr, Indices and, if weighted,
		// Weights.
		want := 3.0
		if weighted {
			want = 4
		}
		if allocs > want {
			t.Errorf("weighted=%t: %v allocations per Induce, want at most %v", weighted, allocs, want)
		}
	}
}

func TestInducedKeepsParallelEdgeOrder(t *testing.T) {
	// Row 0 holds 1, 1, 2 with weights 5, 6, 7; selecting [2, 0, 1] maps
	// 1→2 and 2→0, so row 1 (node 0) becomes {0: 7, 2: 5, 2: 6}.
	g := &CSR{NumNodes: 3, Indptr: []int64{0, 3, 3, 3}, Indices: []int32{1, 1, 2}, Weights: []float32{5, 6, 7}}
	sub, err := g.Induced([]int64{2, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := &CSR{NumNodes: 3, Indptr: []int64{0, 0, 3, 3}, Indices: []int32{0, 2, 2}, Weights: []float32{7, 5, 6}}
	if d := diffCSR(sub, want); d != "" {
		t.Fatal(d)
	}
}

func BenchmarkInduce(b *testing.B) {
	src, dst := benchEdges(1_000_000, 10_000_000)
	g, err := FromCOO(src, dst, 1_000_000, Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(8, 9))
	const batch = 10_000
	for _, order := range []string{"sorted", "random"} {
		for _, w := range []bool{false, true} {
			name := fmt.Sprintf("nodes=10k/%s", order)
			if w {
				name += "/weighted"
				g.Weights = make([]float32, g.NumEdges())
			} else {
				g.Weights = nil
			}
			b.Run(name, func(b *testing.B) {
				batches := make([][]int64, 16)
				for i := range batches {
					for _, v := range r.Perm(1_000_000)[:batch] {
						batches[i] = append(batches[i], int64(v))
					}
					if order == "sorted" {
						batches[i] = sortedCopy(batches[i])
					}
				}
				in := NewInducer(g)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := in.Induce(batches[i%len(batches)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
