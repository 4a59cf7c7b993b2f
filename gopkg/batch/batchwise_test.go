package batch

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

// modParts assigns node v to part v mod numParts.
func modParts(n, numParts int) []int32 {
	p := make([]int32, n)
	for v := range p {
		p[v] = int32(v % numParts)
	}
	return p
}

// blockParts assigns contiguous id ranges to parts.
func blockParts(n, numParts int) []int32 {
	p := make([]int32, n)
	for v := range p {
		p[v] = int32(v * numParts / n)
	}
	return p
}

// checkBatchWise checks the invariants, one batch per part holding outputs
// (in part order, outputs = the part's outputs), at most k auxiliary nodes,
// and, when exact, that the nodes are outputs ∪ the SetWise top-k.
func checkBatchWise(t *testing.T, g *graph.CSR, outputs []int64, parts []int32, numParts int, opt BatchWiseOptions, b *Batches, exact bool) {
	t.Helper()
	if err := b.Validate(g.NumNodes, outputs); err != nil {
		t.Fatal(err)
	}
	k := g.NumNodes
	if kf := math.Ceil(opt.ExpandRatio * float64(g.NumNodes) / float64(numParts)); kf < float64(k) {
		k = int(kf)
	}
	var want [][]int64
	for p := range numParts {
		var s []int64
		for _, v := range b.Out {
			if int(parts[v]) == p {
				s = append(s, v)
			}
		}
		if len(s) > 0 {
			want = append(want, s)
		}
	}
	if b.NumBatches() != len(want) {
		t.Fatalf("%d batches, want %d (parts with outputs)", b.NumBatches(), len(want))
	}
	var res *ppr.Result
	if exact {
		var err error
		res, _, err = ppr.SetWiseLists(g, want, ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: k})
		if err != nil {
			t.Fatal(err)
		}
	}
	for bi := range b.NumBatches() {
		out, nodes := b.Batch(bi)
		if !slices.Equal(out, want[bi]) {
			t.Fatalf("batch %d outputs %v, want part outputs %v", bi, out, want[bi])
		}
		if len(nodes) > len(out)+k {
			t.Fatalf("batch %d has %d nodes for %d outputs and k = %d", bi, len(nodes), len(out), k)
		}
		if exact {
			top, _ := res.Row(bi)
			u := slices.Clone(out)
			for _, v := range top {
				u = append(u, int64(v))
			}
			slices.Sort(u)
			if u = slices.Compact(u); !slices.Equal(u, nodes) {
				t.Fatalf("batch %d nodes differ from outputs ∪ top-%d", bi, k)
			}
		}
	}
}

// batchWiseCase is one call of BatchWise in a table test; want is the
// error it must wrap (nil: it must succeed).
type batchWiseCase struct {
	name     string
	g        *graph.CSR
	outputs  []int64
	parts    []int32
	numParts int
	opt      BatchWiseOptions
	want     error
}

func TestBatchWise(t *testing.T) {
	csbm, _ := csbmGraph(t, 3000, 6, 8, 0.8)
	rg := randomGraph(t, 1, 1000, 4000)
	cases := []batchWiseCase{
		{"random-all-mod", rg, iota64(1000), modParts(1000, 8), 8, BatchWiseOptions{ExpandRatio: 0.5, Alpha: 0.25, Eps: 1e-5}, nil},
		{"random-sample-block", rg, sample(2, 1000, 100), blockParts(1000, 16), 16, BatchWiseOptions{ExpandRatio: 1, Alpha: 0.25, Eps: 1e-5}, nil},
		{"random-one-part", rg, sample(3, 1000, 50), make([]int32, 1000), 1, BatchWiseOptions{ExpandRatio: 0.1, Alpha: 0.2, Eps: 1e-5}, nil},
		// Many parts and few outputs: most parts have none and are skipped.
		{"random-sparse-parts", rg, sample(4, 1000, 5), blockParts(1000, 50), 50, BatchWiseOptions{ExpandRatio: 2, Alpha: 0.25, Eps: 1e-5}, nil},
		{"csbm", csbm, sample(5, 3000, 600), modParts(3000, 10), 10, BatchWiseOptions{ExpandRatio: 0.2, Alpha: 0.25, Eps: 1e-5}, nil},
		{"huge-ratio", rg, sample(6, 1000, 20), modParts(1000, 4), 4, BatchWiseOptions{ExpandRatio: 1e300, Alpha: 0.25, Eps: 1e-4}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := BatchWise(c.g, c.outputs, c.parts, c.numParts, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkBatchWise(t, c.g, c.outputs, c.parts, c.numParts, c.opt, b, c.opt.Eps <= 1e-5)
			opt := c.opt
			opt.Workers = 1
			b1, err := BatchWise(c.g, scramble(7, c.outputs), c.parts, c.numParts, opt)
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "scrambled outputs, 1 worker", b, b1)
			opt.Workers = 2
			b2, err := BatchWise(c.g, slices.Compact(slices.Sorted(slices.Values(c.outputs))), c.parts, c.numParts, opt)
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "sorted outputs, 2 workers", b, b2)
			t.Logf("%d outputs -> %d batches, %d nodes", len(b.Out), b.NumBatches(), len(b.Nodes))
		})
	}
}

// TestBatchWiseEpsRefinement checks that a coarse Eps is refined until the
// batch holds k auxiliary nodes, and that a part whose reachable region is
// smaller than k gets just that region.
func TestBatchWiseEpsRefinement(t *testing.T) {
	// A cycle on 0 … 199 plus a separate triangle 200, 201, 202.
	var src, dst []int64
	for v := range int64(200) {
		src, dst = append(src, v), append(dst, (v+1)%200)
	}
	src, dst = append(src, 200, 201, 202), append(dst, 201, 202, 200)
	g, err := graph.FromCOO(src, dst, 203, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]int32, 203)
	parts[200], parts[201], parts[202] = 1, 1, 1
	// k = ceil(0.2·203/2) = 21.
	opt := BatchWiseOptions{ExpandRatio: 0.2, Alpha: 0.25, Eps: 0.01}
	noRefine, _, err := ppr.SetWise(g, []int64{0, 1}, []int64{100}, ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: 21})
	if err != nil {
		t.Fatal(err)
	}
	b, err := BatchWise(g, []int64{100, 201}, parts, 2, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(g.NumNodes, []int64{100, 201}); err != nil {
		t.Fatal(err)
	}
	_, n0 := b.Batch(0)
	_, n1 := b.Batch(1)
	t.Logf("eps %g alone finds %d nodes; with refinement the batch has %d", opt.Eps, len(noRefine.Nodes), len(n0))
	if len(noRefine.Nodes) >= 21 {
		t.Fatalf("test graph does not exercise the refinement: %d nodes at eps %g", len(noRefine.Nodes), opt.Eps)
	}
	if len(n0) != 21 || n0[0] != 90 || n0[20] != 110 {
		t.Fatalf("refined batch has nodes %v, want 90 … 110", n0)
	}
	if !slices.Equal(n1, []int64{200, 201, 202}) {
		t.Fatalf("triangle batch has nodes %v", n1)
	}
}

// TestBatchWiseGithub runs batch-wise batching on the GitHub graph.
func TestBatchWiseGithub(t *testing.T) {
	g := loadGithub(t)
	outputs := iota64(g.NumNodes)
	numParts := 32
	if raceEnabled || testing.Short() {
		outputs, numParts = sample(22, g.NumNodes, 2000), 8
	}
	parts := modParts(g.NumNodes, numParts)
	opt := BatchWiseOptions{ExpandRatio: 0.1, Alpha: 0.25, Eps: 2e-4}
	b, err := BatchWise(g, outputs, parts, numParts, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkBatchWise(t, g, outputs, parts, numParts, opt, b, false)
	opt.Workers = 1
	b1, err := BatchWise(g, scramble(3, outputs), parts, numParts, opt)
	if err != nil {
		t.Fatal(err)
	}
	sameBatches(t, "scrambled, 1 worker", b, b1)
	k := int(math.Ceil(opt.ExpandRatio * float64(g.NumNodes) / float64(numParts)))
	short := 0
	for bi := range b.NumBatches() {
		out, nodes := b.Batch(bi)
		if len(nodes) < k {
			short++
		}
		_ = out
	}
	t.Logf("github: %d outputs, %d parts -> %d batches, %d nodes, k = %d, %d batches with fewer than k nodes", len(b.Out), numParts, b.NumBatches(), len(b.Nodes), k, short)
}

func TestBatchWiseErrors(t *testing.T) {
	g := randomGraph(t, 1, 50, 100)
	ok := BatchWiseOptions{ExpandRatio: 1, Alpha: 0.25, Eps: 1e-4}
	mod := func(f func(*BatchWiseOptions)) BatchWiseOptions { o := ok; f(&o); return o }
	parts := modParts(50, 4)
	badParts := slices.Clone(parts)
	badParts[7] = 4
	negParts := slices.Clone(parts)
	negParts[3] = -1
	cases := []batchWiseCase{
		{"nil graph", nil, []int64{0}, parts, 4, ok, graph.ErrValue},
		{"no outputs", g, []int64{}, parts, 4, ok, graph.ErrValue},
		{"output out of range", g, []int64{3, 50}, parts, 4, ok, graph.ErrIndex},
		{"negative output", g, []int64{-2}, parts, 4, ok, graph.ErrIndex},
		{"parts too short", g, []int64{1}, parts[:49], 4, ok, graph.ErrValue},
		{"parts nil", g, []int64{1}, nil, 4, ok, graph.ErrValue},
		{"part id too large", g, []int64{1}, badParts, 4, ok, graph.ErrIndex},
		{"negative part id", g, []int64{1}, negParts, 4, ok, graph.ErrIndex},
		{"num parts 0", g, []int64{1}, parts, 0, ok, graph.ErrValue},
		{"ratio 0", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.ExpandRatio = 0 }), graph.ErrValue},
		{"ratio negative", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.ExpandRatio = -1 }), graph.ErrValue},
		{"ratio NaN", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.ExpandRatio = math.NaN() }), graph.ErrValue},
		{"ratio Inf", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.ExpandRatio = math.Inf(1) }), graph.ErrValue},
		{"alpha", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.Alpha = 1.5 }), graph.ErrValue},
		{"eps", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.Eps = -1 }), graph.ErrValue},
		{"workers", g, []int64{1}, parts, 4, mod(func(o *BatchWiseOptions) { o.Workers = -3 }), graph.ErrValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := BatchWise(c.g, c.outputs, c.parts, c.numParts, c.opt)
			if !errors.Is(err, c.want) || b != nil {
				t.Fatalf("got %v, %v; want an error wrapping %v", b, err, c.want)
			}
			t.Log(err)
		})
	}
}
