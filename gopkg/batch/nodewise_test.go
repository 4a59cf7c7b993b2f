package batch

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

// checkNodeWise checks the invariants of b, the cap on outputs per batch
// and that every batch holds the top-k nodes of each of its outputs.
func checkNodeWise(t *testing.T, g *graph.CSR, outputs []int64, opt NodeWiseOptions, b *Batches) {
	t.Helper()
	if err := b.Validate(g.NumNodes, outputs); err != nil {
		t.Fatal(err)
	}
	out := b.Out
	res, _, err := ppr.NodeWise(g, out, ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.NumAuxNodes})
	if err != nil {
		t.Fatal(err)
	}
	row := 0
	for bi := range b.NumBatches() {
		o, nodes := b.Batch(bi)
		if len(o) > opt.MaxOutputsPerBatch {
			t.Fatalf("batch %d has %d outputs, cap %d", bi, len(o), opt.MaxOutputsPerBatch)
		}
		for _, v := range o {
			top, _ := res.Row(row)
			row++
			for _, u := range top {
				if !contains(nodes, int64(u)) {
					t.Fatalf("batch %d lacks node %d from the top-k of its output %d", bi, u, v)
				}
			}
		}
	}
}

func TestNodeWise(t *testing.T) {
	csbm, _ := csbmGraph(t, 3000, 6, 8, 0.8)
	cases := []struct {
		name    string
		g       *graph.CSR
		outputs []int64
		opt     NodeWiseOptions
	}{
		{"random-all", randomGraph(t, 1, 500, 1500), iota64(500), NodeWiseOptions{NumAuxNodes: 8, MaxOutputsPerBatch: 64, Alpha: 0.25, Eps: 1e-4}},
		{"random-sample", randomGraph(t, 2, 2000, 5000), sample(3, 2000, 300), NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 50, Alpha: 0.25, Eps: 1e-4}},
		{"random-cap1", randomGraph(t, 4, 300, 600), sample(5, 300, 40), NodeWiseOptions{NumAuxNodes: 4, MaxOutputsPerBatch: 1, Alpha: 0.2, Eps: 1e-3}},
		{"random-one-batch", randomGraph(t, 6, 300, 600), sample(7, 300, 40), NodeWiseOptions{NumAuxNodes: 4, MaxOutputsPerBatch: 1000, Alpha: 0.2, Eps: 1e-3}},
		{"sparse-isolated", randomGraph(t, 8, 400, 100), iota64(400), NodeWiseOptions{NumAuxNodes: 3, MaxOutputsPerBatch: 7, Alpha: 0.25, Eps: 1e-4}},
		{"csbm", csbm, sample(9, 3000, 1200), NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 100, Alpha: 0.25, Eps: 2e-4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := NodeWise(c.g, c.outputs, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkNodeWise(t, c.g, c.outputs, c.opt, b)
			if c.opt.MaxOutputsPerBatch >= len(c.outputs) && b.NumBatches() != 1 {
				t.Fatalf("%d batches, want 1 when the cap exceeds the outputs", b.NumBatches())
			}
			// Unsorted, repeated outputs and a different worker count give
			// the same batches.
			opt2 := c.opt
			opt2.Workers = 1
			b1, err := NodeWise(c.g, scramble(11, c.outputs), opt2)
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "scrambled outputs, 1 worker", b, b1)
			opt2.Workers = 2
			sorted := slices.Sorted(slices.Values(c.outputs))
			b2, err := NodeWise(c.g, slices.Compact(sorted), opt2)
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "sorted distinct outputs, 2 workers", b, b2)
			// The post-processing leaves no two batches that could merge:
			// the two smallest together exceed the cap.
			if n := b.NumBatches(); n > 1 {
				sizes := make([]int, n)
				for i := range n {
					o, _ := b.Batch(i)
					sizes[i] = len(o)
				}
				slices.Sort(sizes)
				if sizes[0]+sizes[1] <= c.opt.MaxOutputsPerBatch {
					t.Fatalf("two smallest batches (%d, %d outputs) fit under the cap %d", sizes[0], sizes[1], c.opt.MaxOutputsPerBatch)
				}
			}
			t.Logf("%d outputs -> %d batches, %d nodes", len(b.Out), b.NumBatches(), len(b.Nodes))
		})
	}
}

// TestNodeWiseProgress checks that Progress is passed to the PPR step.
func TestNodeWiseProgress(t *testing.T) {
	g := randomGraph(t, 12, 200, 500)
	last := 0
	_, err := NodeWise(g, iota64(200), NodeWiseOptions{NumAuxNodes: 4, MaxOutputsPerBatch: 10, Alpha: 0.25, Eps: 1e-3,
		Progress: func(done, total int) {
			if total != 200 || done < last {
				t.Errorf("progress %d/%d after %d", done, total, last)
			}
			last = done
		}})
	if err != nil || last != 200 {
		t.Fatalf("err %v, last progress %d", err, last)
	}
}

// TestNodeWiseQuality checks that node-wise batches keep far more of each
// output's top-k nodes inside its own batch than a random grouping of the
// same sizes does, and that they follow the CSBM classes.
func TestNodeWiseQuality(t *testing.T) {
	g, y := csbmGraph(t, 4000, 8, 10, 0.9)
	outputs := iota64(g.NumNodes)
	opt := NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 200, Alpha: 0.25, Eps: 2e-4}
	b, err := NodeWise(g, outputs, opt)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := ppr.NodeWise(g, outputs, ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.NumAuxNodes})
	if err != nil {
		t.Fatal(err)
	}
	// Fraction of top-k nodes that are outputs of the same batch.
	inside := func(batchOf []int) float64 {
		sum := 0.0
		for i := range outputs {
			top, _ := res.Row(i)
			same := 0
			for _, u := range top {
				if batchOf[u] == batchOf[i] {
					same++
				}
			}
			sum += float64(same) / float64(len(top))
		}
		return sum / float64(len(outputs))
	}
	batchOf := make([]int, g.NumNodes)
	for bi := range b.NumBatches() {
		o, _ := b.Batch(bi)
		for _, v := range o {
			batchOf[v] = bi
		}
	}
	random := slices.Clone(batchOf)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(random), func(i, j int) { random[i], random[j] = random[j], random[i] })
	q, qr := inside(batchOf), inside(random)
	// Class purity: share of each batch's outputs in its majority class.
	purity := func(batchOf []int) float64 {
		count := make(map[[2]int64]int)
		best := make(map[int]int)
		for v, bi := range batchOf {
			key := [2]int64{int64(bi), y[v]}
			count[key]++
			best[bi] = max(best[bi], count[key])
		}
		pure := 0
		for _, c := range best {
			pure += c
		}
		return float64(pure) / float64(len(batchOf))
	}
	pb, pr := purity(batchOf), purity(random)
	t.Logf("%d batches; top-k inside own batch: %.3f (random grouping %.3f); class purity %.3f (random %.3f)", b.NumBatches(), q, qr, pb, pr)
	if q < 2*qr {
		t.Fatalf("node-wise batches keep %.3f of the top-k inside, random grouping %.3f", q, qr)
	}
	if pb < 2*pr {
		t.Fatalf("class purity %.3f, random grouping %.3f", pb, pr)
	}
}

// TestNodeWiseGithub runs node-wise batching on the GitHub graph.
func TestNodeWiseGithub(t *testing.T) {
	g := loadGithub(t)
	outputs := iota64(g.NumNodes)
	if raceEnabled || testing.Short() {
		outputs = sample(21, g.NumNodes, 4000)
	}
	opt := NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 1024, Alpha: 0.25, Eps: 2e-4}
	b, err := NodeWise(g, outputs, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkNodeWise(t, g, outputs, opt, b)
	opt.Workers = 1
	b1, err := NodeWise(g, scramble(5, outputs), opt)
	if err != nil {
		t.Fatal(err)
	}
	sameBatches(t, "scrambled, 1 worker", b, b1)
	t.Logf("github: %d outputs -> %d batches, %d nodes (%.1f per output)", len(b.Out), b.NumBatches(), len(b.Nodes), float64(len(b.Nodes))/float64(len(b.Out)))
}

func TestNodeWiseErrors(t *testing.T) {
	g := randomGraph(t, 1, 50, 100)
	ok := NodeWiseOptions{NumAuxNodes: 4, MaxOutputsPerBatch: 8, Alpha: 0.25, Eps: 1e-4}
	mod := func(f func(*NodeWiseOptions)) NodeWiseOptions { o := ok; f(&o); return o }
	bad := &graph.CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{5}}
	cases := []struct {
		name    string
		g       *graph.CSR
		outputs []int64
		opt     NodeWiseOptions
		want    error
	}{
		{"nil graph", nil, []int64{0}, ok, graph.ErrValue},
		{"invalid graph", bad, []int64{0}, ok, graph.ErrValue},
		{"no outputs", g, nil, ok, graph.ErrValue},
		{"negative output", g, []int64{1, -1}, ok, graph.ErrIndex},
		{"output too large", g, []int64{50}, ok, graph.ErrIndex},
		{"aux nodes 0", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.NumAuxNodes = 0 }), graph.ErrValue},
		{"max outputs 0", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.MaxOutputsPerBatch = 0 }), graph.ErrValue},
		{"alpha 0", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.Alpha = 0 }), graph.ErrValue},
		{"alpha 1", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.Alpha = 1 }), graph.ErrValue},
		{"eps 0", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.Eps = 0 }), graph.ErrValue},
		{"eps NaN", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.Eps = math.NaN() }), graph.ErrValue},
		{"negative workers", g, []int64{1}, mod(func(o *NodeWiseOptions) { o.Workers = -1 }), graph.ErrValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := NodeWise(c.g, c.outputs, c.opt)
			if !errors.Is(err, c.want) || b != nil {
				t.Fatalf("got %v, %v; want an error wrapping %v", b, err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestAffinityMerge(t *testing.T) {
	// Hand-made rows for 4 outputs (node ids 10..13 -> indices 0..3):
	// 0 and 1 like each other most, then 2 and 3, then 1 and 2.
	rows := [][]int32{{10, 11}, {11, 10, 12}, {12, 13, 11}, {13, 12}}
	scores := [][]float32{{0.5, 0.4}, {0.5, 0.3, 0.1}, {0.5, 0.2, 0.05}, {0.5, 0.2}}
	pos := make([]int32, 20)
	for i := range pos {
		pos[i] = -1
	}
	for i := range 4 {
		pos[10+i] = int32(i)
	}
	pairs, _ := affinityPairs(4, func(i int) ([]int32, []float32) { return rows[i], scores[i] }, pos, 1, nil)
	got := ""
	for _, p := range pairs {
		got += fmt.Sprintf("(%d,%d,%.3f)", p.A, p.B, p.Score)
	}
	want := "(0,1,0.700)(2,3,0.400)(1,2,0.150)"
	if got != want {
		t.Fatalf("pairs %s, want %s", got, want)
	}
	for _, c := range []struct {
		max  int
		want string
	}{{1, "[[0] [1] [2] [3]]"}, {2, "[[0 1] [2 3]]"}, {3, "[[0 1] [2 3]]"}, {4, "[[0 1 2 3]]"}} {
		uf := newUnionFind(4)
		uf.mergeGreedy(pairs, c.max, nil)
		uf.mergeSmallest(c.max, nil)
		if got := fmt.Sprint(uf.groups()); got != c.want {
			t.Errorf("cap %d: groups %s, want %s", c.max, got, c.want)
		}
	}
}
