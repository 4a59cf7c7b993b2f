package partition

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

func unitWeights(n int) []int64 {
	w := make([]int64, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

func internalGraph(tb testing.TB, g *graph.CSR) *wgraph {
	tb.Helper()
	wg, err := fromCSR(g, unitWeights(g.NumNodes), stopper{})
	if err != nil {
		tb.Fatal(err)
	}
	return wg
}

func seqPool() *pool { return &pool{ctx: context.Background(), workers: 1} }

// forceParallel makes every loop of the deep scheme run on all goroutines,
// however little work it has, until the test ends.
func forceParallel(t *testing.T) {
	old := minParallelWork
	minParallelWork = 0
	t.Cleanup(func() { minParallelWork = old })
}

// withEntry returns g with the one directed entry u→v added (rows stay
// sorted).
func withEntry(tb testing.TB, g *graph.CSR, u, v int) *graph.CSR {
	tb.Helper()
	n := g.NumNodes
	out := &graph.CSR{NumNodes: n, Indptr: make([]int64, n+1), Indices: make([]int32, 0, len(g.Indices)+1)}
	for x := 0; x < n; x++ {
		row := append([]int32(nil), g.Row(x)...)
		if x == u {
			row = append(row, int32(v))
			slices.Sort(row)
		}
		out.Indices = append(out.Indices, row...)
		out.Indptr[x+1] = int64(len(out.Indices))
	}
	if err := out.Validate(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestBuildGraph checks the parallel build of the deep scheme against
// fromCSR: the same rows in the same order with the same weights.
func TestBuildGraph(t *testing.T) {
	forceParallel(t)
	weighted := randomGraph(t, 300, 2000, 9)
	weighted.Weights = make([]float32, weighted.NumEdges())
	for u := 0; u < weighted.NumNodes; u++ {
		for q := weighted.Indptr[u]; q < weighted.Indptr[u+1]; q++ {
			v := int(weighted.Indices[q])
			weighted.Weights[q] = float32(1 + (u*v)%5) // symmetric in u, v
		}
	}
	oneSided := randomGraph(t, 300, 2000, 9)
	oneSided.Weights = make([]float32, oneSided.NumEdges())
	for q := range oneSided.Weights {
		oneSided.Weights[q] = float32(q%3 + 1)
	}
	tests := []struct {
		name string
		g    *graph.CSR
	}{
		{"random", randomGraph(t, 5000, 20000, 3)},
		{"grid", gridGraph(t, 40, 70)},
		{"weighted", weighted},
		{"weights differ", oneSided},
		{"directed", &graph.CSR{NumNodes: 3, Indptr: []int64{0, 1, 2, 2}, Indices: []int32{1, 2}}},
		{"self-loop and repeats", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 3, 5}, Indices: []int32{0, 1, 1, 0, 0}}},
		{"repeats one way", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 2, 3}, Indices: []int32{1, 1, 0}}},
		{"lower entry only", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 0, 1}, Indices: []int32{0}}},
		{"self-loops only", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 1, 3}, Indices: []int32{0, 1, 1}}},
		{"lower weight differs", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 1, 2}, Indices: []int32{1, 0}, Weights: []float32{1, 2}}},
		{"extra entry", &graph.CSR{NumNodes: 3, Indptr: []int64{0, 1, 3, 3}, Indices: []int32{1, 0, 2}}},
		{"extra entry across chunks", withEntry(t, randomGraph(t, 9000, 30000, 5), 8500, 10)},
		{"extra entry in a chunk", withEntry(t, randomGraph(t, 9000, 30000, 5), 100, 200)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := fromCSR(tc.g, unitWeights(tc.g.NumNodes), stopper{})
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 2} {
				got, err := symmetricPar(&pool{ctx: context.Background(), workers: workers}, tc.g)
				if err != nil || got != symmetric(tc.g, stopper{}) {
					t.Fatalf("symmetricPar = %v (%v), symmetric = %v", got, err, symmetric(tc.g, stopper{}))
				}
			}
			for _, workers := range []int{1, 3} {
				got, err := buildGraph(&pool{ctx: context.Background(), workers: workers}, tc.g, unitWeights(tc.g.NumNodes))
				if err != nil {
					t.Fatal(err)
				}
				if got.n != want.n || got.total != want.total || !slices.Equal(got.xadj, want.xadj) ||
					!slices.Equal(got.adj, want.adj) || !slices.Equal(got.ew, want.ew) {
					t.Fatalf("workers %d: graph differs from fromCSR", workers)
				}
			}
		})
	}
}

// graphCase is a named graph to partition into parts.
type graphCase struct {
	name  string
	g     *graph.CSR
	parts int
}

// TestDeepDeterminism: equal seeds give equal partitions whatever the
// number of goroutines, on graphs large enough for coarsening, with every
// loop forced onto all goroutines.
func TestDeepDeterminism(t *testing.T) {
	forceParallel(t)
	tests := []graphCase{
		{"csbm9k/24", csbmGraph(t, 9000, 8, 10, 0.8, 5), 24},
		{"random6k/5", randomGraph(t, 6000, 30000, 8), 5},
		{"grid70x70/64", gridGraph(t, 70, 70), 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			workers := []int{2, 5}
			if raceEnabled {
				workers = []int{3} // the race detector slows this test tenfold
			}
			sameForWorkers(t, tc.g, Options{Parts: tc.parts, Seed: 11, Workers: 1}, workers)
		})
	}
}

// TestSpinTeam: with the clustering's sub-rounds handed to a spinTeam
// (forced on small graphs), partitions are those of one goroutine; the
// team also stops cleanly on a cancelled context.
func TestSpinTeam(t *testing.T) {
	old := teamMinWork
	teamMinWork = 0
	t.Cleanup(func() { teamMinWork = old })
	tests := []graphCase{
		{"csbm9k/24", csbmGraph(t, 9000, 8, 10, 0.8, 5), 24},
		{"random6k/5", randomGraph(t, 6000, 30000, 8), 5},
		{"star3k/3", starGraph(t, 3000), 3},
	}
	workers := []int{2, 3}
	if raceEnabled {
		tests, workers = tests[1:], []int{2}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameForWorkers(t, tc.g, Options{Parts: tc.parts, Seed: 3, Workers: 1}, workers)
		})
	}
	g := internalGraph(t, csbmGraph(t, 9000, 8, 10, 0.8, 5))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &pool{ctx: ctx, workers: 2}
	if _, err := lpCluster(p, []*scratch{{}, {}}, g, degreeOrder(g, 1, 0), 50,
		lpClusterConfig{rounds: 2, subRound: 256, seed: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled clustering returned %v", err)
	}
}

// TestUnitPaths: the loops that count edges on graphs with unit weights
// (clustering, contraction, k-way and 2-way refinement) give exactly the
// partitions the weighted loops give, sequentially and with every loop
// forced onto all goroutines.
func TestUnitPaths(t *testing.T) {
	tests := []graphCase{
		{"csbm9k/24", csbmGraph(t, 9000, 8, 10, 0.8, 5), 24},
		{"csbm20k/8", csbmGraph(t, 20000, 8, 12, 0.6, 2), 8},
		{"random6k/5", randomGraph(t, 6000, 30000, 8), 5},
		{"grid70x70/64", gridGraph(t, 70, 70), 64},
		{"star3k/3", starGraph(t, 3000), 3},
	}
	workerCounts := []int{1, 3}
	if raceEnabled {
		// The race detector slows this test tenfold: the parallel runs of
		// the smaller graphs only.
		tests, workerCounts = tests[2:], []int{3}
	}
	for _, tc := range tests {
		for _, workers := range workerCounts {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, workers), func(t *testing.T) {
				if workers > 1 {
					forceParallel(t)
				}
				opt := Options{Parts: tc.parts, Seed: 5, Workers: workers}
				want, err := Partition(tc.g, opt)
				if err != nil {
					t.Fatal(err)
				}
				unitPaths = false
				defer func() { unitPaths = true }()
				got, err := Partition(tc.g, opt)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("weighted loops give a different partition (cut %d) than the unit loops (cut %d)",
						EdgeCut(tc.g, got), EdgeCut(tc.g, want))
				}
			})
		}
	}
}

// TestDeepCancel: a cancelled context stops the deep scheme with the
// context's error, before it starts and while it runs.
func TestDeepCancel(t *testing.T) {
	g := csbmGraph(t, 120_000, 16, 10, 0.8, 2)
	vw := unitWeights(g.NumNodes)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if part, err := partitionDeep(ctx, g, vw, 64, 0.03, 1, 2); !errors.Is(err, context.Canceled) || part != nil {
		t.Fatalf("cancelled before the start: part %v, err %v", part != nil, err)
	}
	for _, after := range []time.Duration{5 * time.Millisecond, 60 * time.Millisecond, 300 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := partitionDeep(ctx, g, vw, 64, 0.03, 1, 2)
			done <- err
		}()
		time.Sleep(after)
		t0 := time.Now()
		cancel()
		select {
		case err := <-done:
			lat := time.Since(t0)
			t.Logf("cancelled after %v: returned %v later (%v)", after, lat, err)
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("still running 2 s after cancellation at %v", after)
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := partitionDeep(ctx, g, vw, 64, 0.03, 1, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: err = %v", err)
	}
}

func TestDesiredK(t *testing.T) {
	tests := []struct {
		n, k, want int
		rmax       int32
	}{
		{100, 8, 2, 4},
		{3999, 8, 2, 4},
		{4000, 8, 2, 4},
		{6000, 8, 4, 2},
		{37700, 8, 8, 1},
		{37700, 128, 32, 4},
		{101913, 98, 64, 2},
		{1_000_000, 98, 98, 1},
		{10, 1, 1, 1},
	}
	for _, tc := range tests {
		d := &deep{k: tc.k}
		if got := d.desiredK(tc.n); got != tc.want {
			t.Errorf("desiredK(n=%d, k=%d) = %d, want %d", tc.n, tc.k, got, tc.want)
		}
		if got := d.rmax(tc.want); got != tc.rmax {
			t.Errorf("rmax(%d) with k=%d = %d, want %d", tc.want, tc.k, got, tc.rmax)
		}
	}
}

// TestLevelK: level 1 (the last before the finest) gets at least Parts/f
// blocks, f the least power of two ≥ 2 leaving finestBlock (100) of its
// nodes per block; other levels keep desiredK. Values worked out by hand.
func TestLevelK(t *testing.T) {
	tests := []struct {
		n, lv, k, want int
	}{
		{2445, 1, 8, 4},     // f=2: 4890 ≥ 800; desiredK only 2
		{2445, 1, 128, 16},  // f=8: 19560 ≥ 12800 (f=4: 9780 < 12800)
		{2625, 1, 32, 16},   // f=2
		{2445, 2, 8, 2},     // not level 1: desiredK
		{2445, 0, 128, 2},   // the finest level: desiredK
		{30820, 1, 8, 8},    // desiredK already k
		{319582, 1, 98, 98}, // desiredK already k
		{6316, 1, 128, 32},  // f=4: 25264 ≥ 12800 (f=2: 12632 < 12800)
		{100, 1, 2, 2},      // ⌈2/2⌉ = 1 < desiredK 2
		{10, 1, 3, 2},       // f=32: ⌈3/32⌉ = 1 < desiredK 2
	}
	for _, tc := range tests {
		d := &deep{k: tc.k}
		if got := d.levelK(tc.n, tc.lv); got != tc.want {
			t.Errorf("levelK(n=%d, lv=%d) with k=%d = %d, want %d", tc.n, tc.lv, tc.k, got, tc.want)
		}
	}
}

// TestBisectLimits: limits follow the adaptive ε with at least minSlack·ε
// and room for the heaviest node; expected values worked out by hand.
func TestBisectLimits(t *testing.T) {
	g := gridGraph(t, 10, 10) // W = 100 with unit weights
	tests := []struct {
		name   string
		k      int
		eps    float64
		vw     func(u int) int64
		r, r0  int32
		maxW   [2]int64
		target int64
	}{
		// lim = ⌊1.03·100/2⌋ = 51; 2·51/100 = 1.02 → ε' = max(0.02, 0.015):
		// 1.02·50 = 51, vs ⌈50⌉+1 = 51.
		{"halves", 2, 0.03, nil, 2, 1, [2]int64{51, 51}, 50},
		// lim = ⌊1.1·100/4⌋ = 27: 4·27/100 = 1.08, two bisections left:
		// √1.08−1 ≈ 0.039 < minSlack·ε = 0.05 → 1.05·50 = 52.5 → 52.
		{"quarters", 4, 0.1, nil, 4, 2, [2]int64{52, 52}, 50},
		// Uneven: r = 3 into 2 + 1, lim = ⌊1.03·100/3⌋ = 34: 102/100 →
		// ε' = max(1.02^(1/2)−1, 0.015) = 0.015; shares 66.67 and 33.33.
		{"thirds", 3, 0.03, nil, 3, 2, [2]int64{68, 35}, 67},
		// A heavy node (weight 10) raises both limits to ⌈share⌉ + 10.
		{"heavy node", 2, 0.03, func(u int) int64 { return map[bool]int64{true: 10, false: 1}[u == 0] }, 2, 1, [2]int64{65, 65}, 55},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wg := internalGraph(t, g)
			if tc.vw != nil {
				wg.total = 0
				for u := range wg.vw {
					wg.vw[u] = tc.vw(u)
					wg.total += wg.vw[u]
				}
			}
			d := &deep{k: tc.k, eps: tc.eps, lim: limit(float64(wg.total)/float64(tc.k), tc.eps)}
			mw, t0 := d.bisectLimits(wg, tc.r, tc.r0)
			if mw != tc.maxW || t0 != tc.target {
				t.Fatalf("limits %v target %d, want %v %d", mw, t0, tc.maxW, tc.target)
			}
		})
	}
}

// TestLPCluster: clusters respect the weight cap (a node heavier than the
// cap stays alone), labels are node ids, and the parallel sub-round mode
// gives the same clustering for any number of goroutines.
func TestLPCluster(t *testing.T) {
	forceParallel(t)
	tests := []struct {
		name string
		g    *graph.CSR
		cap  int64
	}{
		{"csbm", csbmGraph(t, 6000, 6, 8, 0.8, 1), 20},
		{"star", starGraph(t, 3000), 50},
		{"grid", gridGraph(t, 50, 60), 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := internalGraph(t, tc.g)
			g.vw[0] = 3 * tc.cap // heavier than the cap
			order := degreeOrder(g, 5, 0)
			var first []int32
			for _, mode := range []struct{ workers, subRound int }{{1, 0}, {1, 256}, {2, 256}, {5, 256}} {
				sc := make([]*scratch, mode.workers)
				for i := range sc {
					sc[i] = &scratch{}
				}
				p := &pool{ctx: context.Background(), workers: mode.workers}
				cl, err := lpCluster(p, sc, g, order, tc.cap, lpClusterConfig{rounds: 4, subRound: mode.subRound, seed: 3})
				if err != nil {
					t.Fatal(err)
				}
				w := map[int32]int64{}
				size := map[int32]int{}
				for u, c := range cl {
					if c < 0 || int(c) >= g.n {
						t.Fatalf("label %d out of range", c)
					}
					w[c] += g.vw[u]
					size[c]++
				}
				for c, cw := range w {
					if cw > tc.cap && size[c] > 1 {
						t.Fatalf("cluster %d weighs %d > cap %d", c, cw, tc.cap)
					}
				}
				if len(w) >= g.n*9/10 {
					t.Errorf("%+v: %d clusters of %d nodes: clustering stalled", mode, len(w), g.n)
				}
				if mode.subRound > 0 {
					if first == nil {
						first = cl
					} else if !slices.Equal(first, cl) {
						t.Fatalf("%d goroutines changed the clustering", mode.workers)
					}
				}
			}
		})
	}
}

// starGraph is a star with n leaves: label propagation alone cannot shrink
// it (the centre's cluster fills up), two-hop grouping must.
func starGraph(tb testing.TB, n int) *graph.CSR {
	src, dst := make([]int64, n), make([]int64, n)
	for i := range src {
		dst[i] = int64(i + 1)
	}
	return buildCSR(tb, src, dst, n+1)
}

// TestGather checks the rating maps of gather, dense (small graphs, high
// degrees) and hashed (large graphs, low degrees), against a plain map:
// the clusters in order of first appearance with their summed weights.
func TestGather(t *testing.T) {
	for _, tc := range []struct {
		n    int
		unit bool
	}{{3000, false}, {denseNodes + 5000, false}, {3000, true}, {denseNodes + 5000, true}} {
		n := tc.n
		g := internalGraph(t, randomGraph(t, n, 4*n, uint64(n)))
		if markUnit(g); !g.unit {
			t.Fatalf("n=%d: an unweighted graph is not marked unit", n)
		}
		if !tc.unit {
			g.ew[0] = 2.5 // one non-unit weight
			if markUnit(g); g.unit {
				t.Fatalf("n=%d: a weight of 2.5 is marked unit", n)
			}
		}
		rng := rand.New(rand.NewPCG(3, uint64(n)))
		cluster := make([]int32, n)
		for u := range cluster {
			cluster[u] = int32(rng.IntN(n / 4))
		}
		sc := &scratch{}
		sc.ensure(n)
		for u := int32(0); u < int32(n); u += 7 {
			var wantC []int32
			want := map[int32]float64{}
			for q := g.xadj[u]; q < g.xadj[u+1]; q++ {
				c := cluster[g.adj[q]]
				if _, ok := want[c]; !ok {
					wantC = append(wantC, c)
				}
				want[c] += g.ew[q]
			}
			own := sc.gather(g, cluster, u)
			if !slices.Equal(sc.cands, wantC) || own != want[cluster[u]] {
				t.Fatalf("n=%d unit=%v node %d: clusters %v (own %v), want %v (own %v)", n, tc.unit, u, sc.cands, own, wantC, want[cluster[u]])
			}
			for i, c := range sc.cands {
				if sc.rats[i] != want[c] {
					t.Fatalf("n=%d unit=%v node %d cluster %d: weight %v, want %v", n, tc.unit, u, c, sc.rats[i], want[c])
				}
			}
		}
	}
}

// TestContract: the coarse graph keeps the node weights and the weight of
// every edge between clusters, loses the edges inside clusters, and stays
// symmetric; the result does not depend on the number of goroutines. The
// large case builds its rows in the hashed tables.
func TestContract(t *testing.T) {
	forceParallel(t)
	for _, n := range []int{5000, 3 * denseNodes} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { testContract(t, n) })
	}
}

func testContract(t *testing.T, n int) {
	g := internalGraph(t, randomGraph(t, n, 3*n, uint64(n)))
	cl := make([]int32, g.n)
	for u := range cl {
		cl[u] = int32(u - u%2) // pairs: n/2 coarse nodes
		if u%3 == 0 {
			cl[u] = int32(u % 97) // and a few large clusters
		}
	}
	var first *wgraph
	for _, workers := range []int{1, 4} {
		cg, cmap, err := contract(&pool{ctx: context.Background(), workers: workers}, g, cl)
		if err != nil {
			t.Fatal(err)
		}
		if n > denseNodes && cg.n <= denseNodes {
			t.Fatalf("only %d coarse nodes: the hashed rows are not exercised", cg.n)
		}
		inter, sum := 0.0, 0.0
		for u := 0; u < g.n; u++ {
			for q := g.xadj[u]; q < g.xadj[u+1]; q++ {
				if cl[g.adj[q]] != cl[u] {
					inter += g.ew[q]
				}
			}
		}
		for c := 0; c < cg.n; c++ {
			for q := cg.xadj[c]; q < cg.xadj[c+1]; q++ {
				if int(cg.adj[q]) == c {
					t.Fatalf("self-loop at coarse node %d", c)
				}
				sum += cg.ew[q]
			}
		}
		if sum != inter {
			t.Fatalf("coarse edge weight %v, want %v", sum, inter)
		}
		members := map[int32][]int{}
		for u, c := range cmap {
			members[c] = append(members[c], u)
			if cl[u] != cl[members[c][0]] {
				t.Fatalf("node %d mapped with another cluster", u)
			}
		}
		if len(members) != cg.n {
			t.Fatalf("%d coarse nodes, %d used", cg.n, len(members))
		}
		// Rows of some coarse nodes against a reference, and symmetry.
		row := func(c int32) map[int32]float64 {
			r := map[int32]float64{}
			for q := cg.xadj[c]; q < cg.xadj[c+1]; q++ {
				if _, dup := r[cg.adj[q]]; dup {
					t.Fatalf("coarse node %d lists %d twice", c, cg.adj[q])
				}
				r[cg.adj[q]] = cg.ew[q]
			}
			return r
		}
		for c := int32(0); c < int32(cg.n); c += int32(max(1, cg.n/300)) {
			want := map[int32]float64{}
			for _, u := range members[c] {
				for q := g.xadj[u]; q < g.xadj[u+1]; q++ {
					if cv := cmap[g.adj[q]]; cv != c {
						want[cv] += g.ew[q]
					}
				}
			}
			got := row(c)
			if len(got) != len(want) {
				t.Fatalf("coarse node %d: %d neighbours, want %d", c, len(got), len(want))
			}
			for cv, w := range want {
				if got[cv] != w || row(cv)[c] != w {
					t.Fatalf("coarse edge %d-%d: %v / %v, want %v", c, cv, got[cv], row(cv)[c], w)
				}
			}
		}
		tw := int64(0)
		for _, w := range cg.vw {
			tw += w
		}
		if tw != g.total || cg.total != g.total {
			t.Fatalf("coarse weight %d / %d, want %d", tw, cg.total, g.total)
		}
		if first == nil {
			first = cg
		} else if !slices.Equal(first.adj, cg.adj) || !slices.Equal(first.ew, cg.ew) {
			t.Fatal("contraction depends on the number of goroutines")
		}
	}
}

// TestFM2: FM never makes a feasible bisection worse, repairs an
// overloaded one, and keeps the side node counts it is asked to keep.
func TestFM2(t *testing.T) {
	g := internalGraph(t, gridGraph(t, 30, 30))
	tests := []struct {
		name     string
		side     func(u int) int32
		maxW     [2]int64
		minCount [2]int32
	}{
		{"random halves", func(u int) int32 { return int32(mix(uint64(u)) & 1) }, [2]int64{470, 470}, [2]int32{}},
		{"overloaded", func(u int) int32 { return map[bool]int32{true: 0, false: 1}[u%30 < 25] }, [2]int64{460, 460}, [2]int32{}},
		{"keep counts", func(u int) int32 { return map[bool]int32{true: 1, false: 0}[u < 5] }, [2]int64{900, 900}, [2]int32{0, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			side := make([]int32, g.n)
			for u := range side {
				side[u] = tc.side(u)
			}
			f := newFM2(g, side, tc.maxW)
			f.minCount = tc.minCount
			before, over0 := f.gains(), f.overload()
			after, err := f.refine(seqPool(), ipPasses, ipStall)
			if err != nil {
				t.Fatal(err)
			}
			if after != cut(g, side) {
				t.Fatalf("reported cut %v, actual %v", after, cut(g, side))
			}
			over := f.overload()
			if over > over0 || (over0 == 0 && after > before) {
				t.Fatalf("cut %v → %v, overload %d → %d", before, after, over0, over)
			}
			if tc.name == "overloaded" && over != 0 {
				t.Fatalf("overload %d left", over)
			}
			cnt := [2]int32{}
			for _, s := range side {
				cnt[s]++
			}
			if cnt[0] < tc.minCount[0] || cnt[1] < tc.minCount[1] {
				t.Fatalf("side counts %v below %v", cnt, tc.minCount)
			}
			t.Logf("cut %v → %v, overload %d → %d", before, after, over0, over)
		})
	}
}

// TestGainHeap drives the heap with random operations against a sorted
// reference.
func TestGainHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 200
	var h gainHeap
	h.reset(n)
	ref := map[int32]float64{}
	for step := 0; step < 4000; step++ {
		u := int32(rng.IntN(n))
		switch rng.IntN(3) {
		case 0, 1:
			k := float64(rng.IntN(40) - 20)
			h.set(u, k)
			ref[u] = k
		default:
			h.remove(u)
			delete(ref, u)
		}
		if h.len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, h.len(), len(ref))
		}
		if len(ref) == 0 {
			continue
		}
		keys := make([]int32, 0, len(ref))
		for v := range ref {
			keys = append(keys, v)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			return ref[a] > ref[b] || (ref[a] == ref[b] && a < b)
		})
		if top, k := h.top(); top != keys[0] || k != ref[keys[0]] {
			t.Fatalf("step %d: top %d (%v), want %d (%v)", step, top, k, keys[0], ref[keys[0]])
		}
	}
}

// TestDeepBlocksThatCannotSplit: with many zero-weight nodes and parts
// for almost every node, blocks may end up with fewer nodes than parts;
// the result must still be valid, balanced as documented and without empty
// parts.
func TestDeepBlocksThatCannotSplit(t *testing.T) {
	g := randomGraph(t, 500, 1500, 21)
	tests := []struct {
		name  string
		parts int
		w     func(u int) int64
	}{
		{"zero weights", 37, func(int) int64 { return 0 }},
		{"few heavy", 60, func(u int) int64 { return map[bool]int64{true: 1000, false: 0}[u%50 == 0] }},
		{"tight", 450, func(int) int64 { return 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := make([]int64, g.NumNodes)
			for u := range w {
				w[u] = tc.w(u)
			}
			opt := Options{Parts: tc.parts, NodeWeights: w, Seed: 4}
			part, err := Partition(g, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, g, part, opt)
			checkNonEmpty(t, part, tc.parts)
		})
	}
}

func TestUnknownAlgorithm(t *testing.T) {
	for _, a := range []Algorithm{-1, 2, 99} {
		if _, err := Partition(gridGraph(t, 4, 4), Options{Parts: 2, Algorithm: a}); !errors.Is(err, graph.ErrValue) {
			t.Errorf("algorithm %v: err = %v, want a value error", a, err)
		}
	}
	if s := Algorithm(7).String(); s != "Algorithm(7)" {
		t.Errorf("String() = %q", s)
	}
}

// TestDeepStepsStop checks that the steps which can run long on one
// goroutine (2-way FM passes, the final balancing and filling of empty
// parts) return the context's error when it is cancelled, and run to the
// end when it is not.
func TestDeepStepsStop(t *testing.T) {
	g := internalGraph(t, gridGraph(t, 60, 60))
	skewed := func() []int32 { // every node in part 0 but one per other part
		part := make([]int32, g.n)
		for b := 1; b < 4; b++ {
			part[b] = int32(b)
		}
		return part
	}
	steps := []struct {
		name string
		run  func(p *pool) error
	}{
		{"fm2", func(p *pool) error {
			side := make([]int32, g.n)
			for u := range side {
				side[u] = int32(u % 2) // a poor start: many moves to make
			}
			_, err := newFM2(g, side, [2]int64{int64(g.n), int64(g.n)}).refine(p, 3, 1000)
			return err
		}},
		{"forceBalance", func(p *pool) error {
			lim := int64(g.n/4 + 10)
			return newKway(g, skewed(), []int64{lim, lim, lim, lim}, []int32{1, 1, 1, 1}).forceBalance(p)
		}},
		{"fillEmpty", func(p *pool) error {
			part := make([]int32, g.n)
			return newKway(g, part, make([]int64, 5), make([]int32, 5)).fillEmpty(p)
		}},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := tc.run(&pool{ctx: ctx, workers: 1}); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled: err = %v, want context.Canceled", err)
			}
			if err := tc.run(&pool{ctx: context.Background(), workers: 1}); err != nil {
				t.Errorf("not cancelled: err = %v", err)
			}
		})
	}
}
