package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// refAggregate is the dense float64 model: hops products of the dense
// normalised adjacency with x.
func refAggregate(g *CSR, x []float32, dim int, norm Norm, hops int) []float64 {
	w, err := g.Normalized(norm)
	if err != nil {
		panic(err)
	}
	n := g.NumNodes
	a := make([][]float64, n)
	for u := range a {
		a[u] = make([]float64, n)
		for e := g.Indptr[u]; e < g.Indptr[u+1]; e++ {
			a[u][g.Indices[e]] += float64(w[e])
		}
	}
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	for range hops {
		next := make([]float64, len(cur))
		for u := range n {
			for v := range n {
				if a[u][v] != 0 {
					for k := range dim {
						next[u*dim+k] += a[u][v] * cur[v*dim+k]
					}
				}
			}
		}
		cur = next
	}
	return cur
}

func TestAggregate(t *testing.T) {
	cases := []struct {
		n, e, dim, hops, workers int
		norm                     Norm
		weighted, loops          bool
	}{
		{1, 0, 3, 1, 1, NormSym, false, true},
		{7, 20, 1, 1, 1, NormSym, false, true},
		{50, 300, 5, 1, 2, NormSym, false, true},
		{50, 300, 5, 3, 4, NormSym, false, true},
		{300, 2000, 16, 2, 3, NormRow, false, false},
		{300, 2000, 7, 1, 0, NormNone, true, false},
		{600, 100, 4, 2, 2, NormSym, true, true}, // many isolated nodes
	}
	for _, c := range cases {
		name := fmt.Sprintf("n=%d e=%d dim=%d hops=%d norm=%v weighted=%v", c.n, c.e, c.dim, c.hops, c.norm, c.weighted)
		src, dst := randomCOO(uint64(c.n+c.e), c.n, c.e)
		g, err := FromCOO(src, dst, c.n, Options{Symmetrize: true, AddSelfLoops: c.loops})
		if err != nil {
			t.Fatal(err)
		}
		if c.weighted {
			r := rand.New(rand.NewPCG(3, 3))
			g.Weights = make([]float32, g.NumEdges())
			for i := range g.Weights {
				g.Weights[i] = 0.1 + r.Float32()
			}
		}
		r := rand.New(rand.NewPCG(uint64(c.dim), 1))
		x := make([]float32, c.n*c.dim)
		for i := range x {
			x[i] = 2*r.Float32() - 1
		}
		out := make([]float32, len(x))
		if err := g.Aggregate(context.Background(), out, x, c.dim, c.norm, c.hops, c.workers, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := refAggregate(g, x, c.dim, c.norm, c.hops)
		for i := range want {
			if d := math.Abs(float64(out[i]) - want[i]); d > 1e-5*(1+math.Abs(want[i])) {
				t.Fatalf("%s: out[%d] = %g, want %g", name, i, out[i], want[i])
			}
		}
		// Independent of the worker count, bit for bit.
		again := make([]float32, len(x))
		if err := g.Aggregate(context.Background(), again, x, c.dim, c.norm, c.hops, 1, nil); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(again[i]) {
				t.Fatalf("%s: result depends on the worker count", name)
			}
		}
	}
}

func TestAggregateErrors(t *testing.T) {
	g, _ := FromCOO([]int64{0, 1}, []int64{1, 2}, 3, Options{})
	x := make([]float32, 6)
	out := make([]float32, 6)
	bg := context.Background()
	bad := &CSR{NumNodes: 3, Indptr: []int64{0, 1, 1, 1}, Indices: []int32{5}}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"dim 0", g.Aggregate(bg, out, x, 0, NormSym, 1, 0, nil), ErrValue},
		{"hops 0", g.Aggregate(bg, out, x, 2, NormSym, 0, 0, nil), ErrValue},
		{"x length", g.Aggregate(bg, out, x[:5], 2, NormSym, 1, 0, nil), ErrValue},
		{"out length", g.Aggregate(bg, out[:4], x, 2, NormSym, 1, 0, nil), ErrValue},
		{"overlap", g.Aggregate(bg, x, x, 2, NormSym, 1, 0, nil), ErrValue},
		{"norm", g.Aggregate(bg, out, x, 2, Norm(7), 1, 0, nil), ErrValue},
		{"column", bad.Aggregate(bg, out, x, 2, NormNone, 1, 0, nil), ErrIndex},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
		}
	}
	func() {
		defer memlimit.Override(10)()
		if err := g.Aggregate(bg, out, x, 2, NormSym, 2, 0, nil); !errors.Is(err, memlimit.ErrMemory) {
			t.Errorf("scratch over the limit: %v", err)
		}
	}()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	src, dst := randomCOO(1, 5000, 20000)
	h, _ := FromCOO(src, dst, 5000, Options{})
	if err := h.Aggregate(ctx, make([]float32, 5000), make([]float32, 5000), 1, NormSym, 1, 2, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func ExampleCSR_Aggregate() {
	// A path 0 - 1 - 2 with self-loops: Â = D^-1/2 (A+I) D^-1/2 as in GCN.
	g, err := FromCOO([]int64{0, 1}, []int64{1, 2}, 3, Options{Symmetrize: true, AddSelfLoops: true})
	if err != nil {
		panic(err)
	}
	x := []float32{6, 0, 0} // one feature per node
	out := make([]float32, 3)
	if err := g.Aggregate(context.Background(), out, x, 1, NormSym, 1, 0, nil); err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", out)
	// Output: [3.0000 2.4495 0.0000]
}

// BenchmarkAggregate: one hop over a random graph of 100k nodes and 1M
// edges with 64 features.
func BenchmarkAggregate(b *testing.B) {
	const n, e, dim = 100_000, 1_000_000, 64
	src, dst := randomCOO(1, n, e)
	g, err := FromCOO(src, dst, n, Options{Symmetrize: true, AddSelfLoops: true})
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = float32(i % 7)
	}
	out := make([]float32, n*dim)
	b.SetBytes(int64(g.NumEdges()) * dim * 4)
	for b.Loop() {
		if err := g.Aggregate(context.Background(), out, x, dim, NormSym, 1, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}
