package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
)

// Tests of PPRPush. Without a GPU the *GPU tests run against the fake driver
// (fake_test.go: TestFakeDriverPPR), which executes the kernels of
// cuda/ppr.cu on the CPU with emulated warps. The results are checked
// against an exact power iteration with the push guarantee
// 0 <= p(v) - p^(v) <= eps*deg(v) on symmetric graphs, not bit for bit:
// the GPU pushes in rounds and adds residuals atomically in varying order.

// ---- test graphs and references ---------------------------------------------

type testGraph struct {
	n       int
	indptr  []int64
	indices []int32
}

func (g *testGraph) deg(v int) int64 { return g.indptr[v+1] - g.indptr[v] }

// randomSymGraph returns a symmetric multigraph on n nodes: m random
// undirected edges between non-isolated nodes, self-loops on some nodes,
// about isolatedFrac of the nodes without any edge, and hubs nodes linked to
// a random 30% of the others.
func randomSymGraph(rng *rand.Rand, n, m int, isolatedFrac float64, loops, hubs int) *testGraph {
	adj := make([][]int32, n)
	active := []int32{}
	for v := range n {
		if rng.Float64() >= isolatedFrac {
			active = append(active, int32(v))
		}
	}
	if len(active) >= 2 {
		for range m {
			u, v := active[rng.IntN(len(active))], active[rng.IntN(len(active))]
			if u == v {
				continue
			}
			adj[u] = append(adj[u], v)
			adj[v] = append(adj[v], u)
		}
		for range loops {
			u := active[rng.IntN(len(active))]
			adj[u] = append(adj[u], u)
		}
		for h := range min(hubs, len(active)) {
			u := active[h]
			for _, v := range active {
				if v != u && rng.Float64() < 0.3 {
					adj[u] = append(adj[u], v)
					adj[v] = append(adj[v], u)
				}
			}
		}
	}
	g := &testGraph{n: n, indptr: make([]int64, n+1)}
	for v, a := range adj {
		slices.Sort(a)
		g.indptr[v+1] = g.indptr[v] + int64(len(a))
		g.indices = append(g.indices, a...)
	}
	return g
}

// refPush is the CPU push of gopkg/ppr, written out densely: FIFO queue,
// teleport nodes pushed once unconditionally, then while r >= eps*deg.
func refPush(g *testGraph, set []int64, alpha, eps float64) []float64 {
	p := make([]float64, g.n)
	r := make([]float64, g.n)
	thr := func(v int32) float64 {
		if d := g.deg(int(v)); d > 0 {
			return eps * float64(d)
		}
		return math.SmallestNonzeroFloat64
	}
	var q []int32
	for _, s := range set {
		if r[s] == 0 {
			r[s] = 1
			q = append(q, int32(s))
		}
	}
	initial := len(q)
	for _, s := range q {
		r[s] = 1 / float64(initial)
	}
	for head := 0; head < len(q); head++ {
		u := q[head]
		res := r[u]
		if res == 0 || (head >= initial && res < thr(u)) {
			continue
		}
		r[u] = 0
		p[u] += alpha * res
		d := g.deg(int(u))
		if d == 0 {
			continue
		}
		val := res * ((1 - alpha) / float64(d))
		for _, v := range g.indices[g.indptr[u]:g.indptr[u+1]] {
			old := r[v]
			r[v] += val
			if t := thr(v); old < t && r[v] >= t {
				q = append(q, v)
			}
		}
	}
	return p
}

// exactPPR is gopkg/ppr's reference (ppr.Exact), the PPR vector by power
// iteration to within tol in total. (graph.CSR wants sorted rows; the order
// of a row does not change PPR.)
func exactPPR(g *testGraph, set []int64, alpha, tol float64) []float64 {
	idx := slices.Clone(g.indices)
	for u := range g.n {
		slices.Sort(idx[g.indptr[u]:g.indptr[u+1]])
	}
	p, err := ppr.Exact(&graph.CSR{NumNodes: g.n, Indptr: g.indptr, Indices: idx}, set, alpha, tol)
	if err != nil {
		panic(fmt.Sprintf("ppr.Exact: %v", err))
	}
	return p
}

// ---- checks -------------------------------------------------------------------

// pprSlack is the rounding allowance for a value of size x: the scores are
// float32 (relative error 2^-24 each) and everything else is float64.
func pprSlack(x float64) float64 { return 4e-7*math.Abs(x) + 1e-12 }

// checkRowShape checks that a row is sorted by descending score, ties by
// ascending node, with distinct nodes in range and positive finite scores.
func checkRowShape(t *testing.T, what string, n int, nodes []int32, scores []float32) {
	t.Helper()
	seen := map[int32]bool{}
	for i, v := range nodes {
		s := scores[i]
		if v < 0 || int(v) >= n || seen[v] {
			t.Fatalf("%s: entry %d: node %d out of range or repeated", what, i, v)
		}
		seen[v] = true
		if !(s > 0) || math.IsInf(float64(s), 0) {
			t.Fatalf("%s: entry %d: node %d has score %v", what, i, v, s)
		}
		if i > 0 && !(scores[i-1] > s || (scores[i-1] == s && nodes[i-1] < v)) {
			t.Fatalf("%s: entries %d, %d out of order: (%d, %v) then (%d, %v)", what, i-1, i, nodes[i-1], scores[i-1], v, s)
		}
	}
}

// checkPPRRow checks one output row against the exact vector p of its set:
// every reported score lies in [p(v) - eps*deg(v), p(v)], and
//   - k <= 0: every node left out has p(v) <= eps*deg(v) (its estimate is 0);
//   - k > 0: the row has min(k, ...) entries and is a valid top-k of some
//     estimate within the bound: every node u kept and w left out satisfy
//     p(u) >= p(w) - eps*deg(w); a row shorter than k left out only nodes
//     whose estimate is 0.
func checkPPRRow(t *testing.T, what string, g *testGraph, p []float64, eps float64, k int, nodes []int32, scores []float32) {
	t.Helper()
	checkRowShape(t, what, g.n, nodes, scores)
	if k > 0 && len(nodes) > k {
		t.Fatalf("%s: %d entries, want at most k = %d", what, len(nodes), k)
	}
	kept := make([]bool, g.n)
	minKept := math.Inf(1)
	for i, v := range nodes {
		kept[v] = true
		s, pv, b := float64(scores[i]), p[v], eps*float64(g.deg(int(v)))
		if s > pv+pprSlack(pv) || s < pv-b-pprSlack(pv) {
			t.Fatalf("%s: node %d (degree %d): estimate %.9g outside [p - eps*deg, p] = [%.9g, %.9g]", what, v, g.deg(int(v)), s, pv-b, pv)
		}
		minKept = min(minKept, pv)
	}
	for w := range g.n {
		if kept[w] {
			continue
		}
		lower := p[w] - eps*float64(g.deg(w)) // p^(w) >= lower
		switch {
		case k <= 0 || len(nodes) < k:
			if lower > pprSlack(p[w]) {
				t.Fatalf("%s: node %d (degree %d) missing: p = %.9g > eps*deg = %.9g (k = %d, %d entries)",
					what, w, g.deg(w), p[w], eps*float64(g.deg(w)), k, len(nodes))
			}
		default:
			if lower > minKept+pprSlack(minKept) {
				t.Fatalf("%s: node %d left out of the top %d although p - eps*deg = %.9g exceeds the smallest kept p = %.9g",
					what, w, k, lower, minKept)
			}
		}
	}
}

// pprSets expands (setPtr, setNodes) into one slice per set.
func pprSets(setPtr, setNodes []int64) [][]int64 {
	if setPtr == nil {
		sets := make([][]int64, len(setNodes))
		for i := range setNodes {
			sets[i] = setNodes[i : i+1]
		}
		return sets
	}
	sets := make([][]int64, len(setPtr)-1)
	for i := range sets {
		sets[i] = setNodes[setPtr[i]:setPtr[i+1]]
	}
	return sets
}

// exactCache memoizes exact vectors per (graph, alpha, set).
type exactCache struct {
	g     *testGraph
	alpha float64
	m     map[string][]float64
}

func (c *exactCache) get(set []int64) []float64 {
	key := fmt.Sprint(set)
	if p, ok := c.m[key]; ok {
		return p
	}
	if c.m == nil {
		c.m = map[string][]float64{}
	}
	p := exactPPR(c.g, set, c.alpha, 1e-14)
	c.m[key] = p
	return p
}

// checkPPRResult checks every row of res (rows listed in res.Overflowed must
// be empty; they are skipped).
func checkPPRResult(t *testing.T, what string, g *testGraph, ex *exactCache, setPtr, setNodes []int64, opt PPROptions, res *PPRResult) {
	t.Helper()
	sets := pprSets(setPtr, setNodes)
	if res.NumRows() != len(sets) || res.Indptr[0] != 0 || res.Indptr[len(sets)] != int64(len(res.Nodes)) || len(res.Nodes) != len(res.Scores) {
		t.Fatalf("%s: malformed result: %d rows for %d sets, indptr ends %d, %d nodes, %d scores",
			what, res.NumRows(), len(sets), res.Indptr[len(res.Indptr)-1], len(res.Nodes), len(res.Scores))
	}
	over := map[int]bool{}
	for _, i := range res.Overflowed {
		over[i] = true
	}
	for i, set := range sets {
		lo, hi := res.Indptr[i], res.Indptr[i+1]
		if over[i] {
			if hi != lo {
				t.Fatalf("%s: overflowed set %d has a row of %d entries", what, i, hi-lo)
			}
			continue
		}
		checkPPRRow(t, fmt.Sprintf("%s: set %d %v", what, i, set), g, ex.get(set), opt.Eps, opt.TopK,
			res.Nodes[lo:hi], res.Scores[lo:hi])
	}
}

// ---- tests without a GPU ---------------------------------------------------------

// The reference push used by these tests satisfies the guarantee the GPU
// results are held to (a check of the checks).
func TestPPRReferenceGuarantee(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	g := randomSymGraph(rng, 200, 500, 0.1, 10, 1)
	ex := &exactCache{g: g, alpha: 0.2}
	for _, eps := range []float64{1e-2, 1e-4, 1e-6} {
		for trial := range 20 {
			set := []int64{int64(rng.IntN(g.n))}
			if trial%3 == 0 {
				set = append(set, int64(rng.IntN(g.n)), set[0])
			}
			ph := refPush(g, set, 0.2, eps)
			var nodes []int32
			var scores []float32
			for v, x := range ph {
				if float32(x) > 0 {
					nodes = append(nodes, int32(v))
					scores = append(scores, float32(x))
				}
			}
			sortRow(nil, nodes, scores)
			checkPPRRow(t, fmt.Sprintf("reference eps=%g set=%v", eps, set), g, ex.get(set), eps, 0, nodes, scores)
		}
	}
}

func TestPPRValidation(t *testing.T) {
	indptr := []int64{0, 1, 2}
	indices := []int32{1, 0}
	ok := PPROptions{Alpha: 0.25, Eps: 1e-3}
	with := func(f func(o *PPROptions)) PPROptions {
		o := ok
		f(&o)
		return o
	}
	for name, c := range map[string]struct {
		dev              int
		indptr           []int64
		indices          []int32
		setPtr, setNodes []int64
		opt              PPROptions
		want             error
	}{
		"negative device":   {-1, indptr, indices, nil, []int64{0}, ok, ErrValue},
		"alpha 0":           {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.Alpha = 0 }), ErrValue},
		"alpha 1":           {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.Alpha = 1 }), ErrValue},
		"alpha NaN":         {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.Alpha = math.NaN() }), ErrValue},
		"eps 0":             {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.Eps = 0 }), ErrValue},
		"eps inf":           {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.Eps = math.Inf(1) }), ErrValue},
		"table not pow2":    {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.TableCap = 1000 }), ErrValue},
		"table too small":   {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.TableCap = 128 }), ErrValue},
		"negative budget":   {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.MemBudget = -1 }), ErrValue},
		"negative warps":    {0, indptr, indices, nil, []int64{0}, with(func(o *PPROptions) { o.MaxWarps = -1 }), ErrValue},
		"no nodes":          {0, []int64{0}, nil, nil, []int64{0}, ok, ErrValue},
		"indptr end":        {0, []int64{0, 1, 3}, indices, nil, []int64{0}, ok, ErrValue},
		"indptr start":      {0, []int64{1, 1, 2}, indices, nil, []int64{0}, ok, ErrValue},
		"no seeds":          {0, indptr, indices, nil, nil, ok, ErrValue},
		"seed range":        {0, indptr, indices, nil, []int64{0, 2}, ok, ErrIndex},
		"seed negative":     {0, indptr, indices, nil, []int64{-1}, ok, ErrIndex},
		"no sets":           {0, indptr, indices, []int64{0}, nil, ok, ErrValue},
		"set ptr start":     {0, indptr, indices, []int64{1, 1}, []int64{0}, ok, ErrValue},
		"set ptr end":       {0, indptr, indices, []int64{0, 1}, []int64{0, 1}, ok, ErrValue},
		"empty set":         {0, indptr, indices, []int64{0, 1, 1, 2}, []int64{0, 1}, ok, ErrValue},
		"set ptr decreases": {0, indptr, indices, []int64{0, 2, 1, 2}, []int64{0, 1}, ok, ErrValue},
		"set node range":    {0, indptr, indices, []int64{0, 2}, []int64{0, 5}, ok, ErrIndex},
	} {
		_, err := PPRPush(c.dev, c.indptr, c.indices, c.setPtr, c.setNodes, c.opt)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want an error wrapping %v", name, err, c.want)
		} else if !strings.HasPrefix(err.Error(), "cuda: ppr: ") {
			t.Errorf("%s: error %q lacks the cuda: ppr: prefix", name, err)
		}
	}
}

func TestSortRow(t *testing.T) {
	nodes := []int32{5, 3, 9, 1, 7}
	scores := []float32{0.5, 0.25, 0.5, 1, 0.25}
	sortRow(nil, nodes, scores)
	if !slices.Equal(nodes, []int32{1, 5, 9, 3, 7}) || !slices.Equal(scores, []float32{1, .5, .5, .25, .25}) {
		t.Fatalf("sortRow: %v %v", nodes, scores)
	}
}

// TestCompilePPR: the PPR kernels compile to CUBINs without spilling
// (TestCompilePTX checks their PTX).
func TestCompilePPR(t *testing.T) {
	requireNVRTC(t)
	for _, arch := range compileArchs(t) {
		// The warp-per-task design needs every kernel to fit 64 registers
		// (32 warps per SM) without spilling; ptxas reports it.
		bin, log, err := compileWithLog(cudasrc.PPR, "ppr.cu", arch, true, []string{"--ptxas-options=-v"})
		if err != nil {
			t.Fatalf("CUBIN for sm_%d: %v", arch, err)
		}
		for _, k := range cudasrc.PPRKernels {
			if !strings.Contains(string(bin), k+"\x00") {
				t.Errorf("sm_%d CUBIN lacks symbol %s", arch, k)
			}
		}
		if strings.Contains(log, "spill stores") {
			for _, line := range strings.Split(log, "\n") {
				if strings.Contains(line, "spill stores") && !strings.Contains(line, " 0 bytes spill stores") {
					t.Errorf("sm_%d: ptxas reports spilling: %s", arch, strings.TrimSpace(line))
				}
				if strings.Contains(line, "stack frame") && !strings.Contains(line, " 0 bytes stack frame") {
					t.Errorf("sm_%d: ptxas reports a stack frame (local memory): %s", arch, strings.TrimSpace(line))
				}
			}
		}
		t.Logf("sm_%d: %d bytes of CUBIN; ptxas:\n%s", arch, len(bin), log)
	}
}

// ---- GPU tests (also run on the fake driver) ---------------------------------------

func pprPush(t *testing.T, g *testGraph, setPtr, setNodes []int64, opt PPROptions) *PPRResult {
	t.Helper()
	res, err := PPRPush(0, g.indptr, g.indices, setPtr, setNodes, opt)
	if err != nil {
		t.Fatalf("PPRPush(%+v): %v", opt, err)
	}
	return res
}

// isolatedNode returns a node without edges, or -1.
func (g *testGraph) isolatedNode() int64 {
	for v := range g.n {
		if g.deg(v) == 0 {
			return int64(v)
		}
	}
	return -1
}

func TestPPRPushGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for gi, c := range []struct {
		n, m, loops, hubs int
		alpha, eps        float64
		ks                []int
	}{
		{n: 300, m: 700, loops: 20, hubs: 0, alpha: 0.25, eps: 1e-3, ks: []int{0, 1, 7, 32, 33, 64, 65, 128, 200}},
		{n: 200, m: 900, loops: 10, hubs: 2, alpha: 0.15, eps: 1e-5, ks: []int{0, 16, 100}},
		{n: 120, m: 150, loops: 30, hubs: 1, alpha: 0.5, eps: 1e-2, ks: []int{0, 5}},
	} {
		g := randomSymGraph(rng, c.n, c.m, 0.1, c.loops, c.hubs)
		ex := &exactCache{g: g, alpha: c.alpha}
		seeds := []int64{0, 0, int64(g.n - 1)} // hubs first; a repeated seed
		if iso := g.isolatedNode(); iso >= 0 {
			seeds = append(seeds, iso)
		}
		for len(seeds) < 40 {
			seeds = append(seeds, int64(rng.IntN(g.n)))
		}
		for _, k := range c.ks {
			opt := PPROptions{Alpha: c.alpha, Eps: c.eps, TopK: k, MaxWarps: 6}
			res := pprPush(t, g, nil, seeds, opt)
			what := fmt.Sprintf("graph %d (n=%d, eps=%g) k=%d", gi, g.n, c.eps, k)
			if len(res.Overflowed) != 0 {
				t.Fatalf("%s: automatic table size %d overflowed for %v", what, res.Stats.TableCap, res.Overflowed)
			}
			checkPPRResult(t, what, g, ex, nil, seeds, opt, res)
			if res.Stats.Pushes < int64(len(seeds)) || res.Stats.Launches != 1 || res.Stats.Warps != 6 {
				t.Errorf("%s: stats %+v", what, res.Stats)
			}
			t.Logf("%s: %d entries, %+v", what, len(res.Nodes), res.Stats)
		}
	}
}

func TestPPRIsolatedSeedGPU(t *testing.T) {
	requireGPU(t)
	// Node 2 has no edges; node 3 only a self-loop.
	g := &testGraph{n: 4, indptr: []int64{0, 1, 2, 2, 3}, indices: []int32{1, 0, 3}}
	res := pprPush(t, g, nil, []int64{2, 3, 0}, PPROptions{Alpha: 0.3, Eps: 1e-6})
	want := []struct {
		nodes  []int32
		scores []float32
	}{
		{[]int32{2}, []float32{0.3}}, // alpha·e_2: the residual of an isolated node is lost
		{[]int32{3}, []float32{1}},   // a self-loop keeps all the mass
	}
	for i, w := range want {
		lo, hi := res.Indptr[i], res.Indptr[i+1]
		if !slices.Equal(res.Nodes[lo:hi], w.nodes) || math.Abs(float64(res.Scores[lo]-w.scores[0])) > 1e-6 {
			t.Errorf("row %d: %v %v, want %v %v", i, res.Nodes[lo:hi], res.Scores[lo:hi], w.nodes, w.scores)
		}
	}
	checkPPRRow(t, "seed 0", g, exactPPR(g, []int64{0}, 0.3, 1e-14), 1e-6, 0, res.Nodes[res.Indptr[2]:], res.Scores[res.Indptr[2]:])
}

// On a directed graph only 0 <= p - p^ and the total bound hold; nodes
// without out-edges but with in-edges receive residual and are pushed while
// it is positive.
func TestPPRDirectedGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(71, 72))
	const n = 200
	adj := make([][]int32, n)
	for u := range n {
		if u%10 == 0 {
			continue // a sink
		}
		for range 1 + rng.IntN(6) {
			adj[u] = append(adj[u], int32(rng.IntN(n)))
		}
	}
	g := &testGraph{n: n, indptr: make([]int64, n+1)}
	for u, a := range adj {
		g.indptr[u+1] = g.indptr[u] + int64(len(a))
		g.indices = append(g.indices, a...)
	}
	seeds := []int64{1, 10, 55, 99, 150, 151}
	const alpha, eps = 0.2, 1e-5
	res := pprPush(t, g, nil, seeds, PPROptions{Alpha: alpha, Eps: eps, MaxWarps: 3})
	for i, s := range seeds {
		lo, hi := res.Indptr[i], res.Indptr[i+1]
		what := fmt.Sprintf("directed, seed %d", s)
		checkRowShape(t, what, n, res.Nodes[lo:hi], res.Scores[lo:hi])
		p := exactPPR(g, []int64{s}, alpha, 1e-14)
		ph := make([]float64, n)
		for j := lo; j < hi; j++ {
			ph[res.Nodes[j]] = float64(res.Scores[j])
		}
		var gap, bound float64
		sinks := 0
		for v := range n {
			if ph[v] > p[v]+pprSlack(p[v]) {
				t.Fatalf("%s: node %d: estimate %.9g above p = %.9g", what, v, ph[v], p[v])
			}
			gap += p[v] - ph[v]
			bound += eps * float64(g.deg(v))
			if g.deg(v) == 0 && ph[v] > 0 && int64(v) != s {
				sinks++
			}
		}
		if gap > bound {
			t.Errorf("%s: total error %.3g exceeds eps * (number of edges) = %.3g", what, gap, bound)
		}
		if g.deg(int(s)) == 0 { // a sink seed keeps alpha
			if hi-lo != 1 || math.Abs(float64(res.Scores[lo])-alpha) > 1e-7 {
				t.Errorf("%s: row %v %v, want [%d] [%v]", what, res.Nodes[lo:hi], res.Scores[lo:hi], s, alpha)
			}
		} else if sinks == 0 {
			t.Errorf("%s: no sink reached", what)
		}
	}
}

func TestPPRSetWiseGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(21, 22))
	g := randomSymGraph(rng, 250, 600, 0.1, 15, 1)
	ex := &exactCache{g: g, alpha: 0.2}
	setPtr := []int64{0}
	var setNodes []int64
	for i := range 24 {
		size := 1 + rng.IntN(40)
		if i == 0 {
			size = 70 // more than 32: several insertion batches
		}
		for range size {
			setNodes = append(setNodes, int64(rng.IntN(g.n)))
		}
		if i%4 == 0 { // duplicates count once
			setNodes = append(setNodes, setNodes[len(setNodes)-1], setNodes[setPtr[i]])
		}
		setPtr = append(setPtr, int64(len(setNodes)))
	}
	if iso := g.isolatedNode(); iso >= 0 {
		setNodes = append(setNodes, iso, iso)
		setPtr = append(setPtr, int64(len(setNodes)))
	}
	for _, k := range []int{0, 20, 128} {
		opt := PPROptions{Alpha: 0.2, Eps: 1e-4, TopK: k, MaxWarps: 5}
		res := pprPush(t, g, setPtr, setNodes, opt)
		if len(res.Overflowed) != 0 {
			t.Fatalf("k=%d: overflowed %v", k, res.Overflowed)
		}
		checkPPRResult(t, fmt.Sprintf("set-wise k=%d", k), g, ex, setPtr, setNodes, opt, res)
	}
}

func TestPPROverflowGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(31, 32))
	g := randomSymGraph(rng, 1200, 4000, 0.05, 10, 0)
	ex := &exactCache{g: g, alpha: 0.25}
	iso := g.isolatedNode()
	seeds := []int64{iso}
	for len(seeds) < 30 {
		seeds = append(seeds, int64(rng.IntN(g.n)))
	}
	setPtr := make([]int64, len(seeds)+1)
	for i := range seeds {
		setPtr[i+1] = int64(i + 1)
	}
	// One more set with more distinct nodes than a table of 256 slots holds
	// (overflow while inserting the teleport nodes).
	var big []int64
	for v := range 300 {
		big = append(big, int64(v))
	}
	setNodes := append(slices.Clone(seeds), big...)
	setPtr = append(setPtr, int64(len(setNodes)))

	for _, k := range []int{0, 10} {
		opt := PPROptions{Alpha: 0.25, Eps: 1e-4, TopK: k, TableCap: 256, MaxWarps: 4}
		res := pprPush(t, g, setPtr, setNodes, opt)
		what := fmt.Sprintf("TableCap 256, k=%d", k)
		if res.Stats.TableCap != 256 {
			t.Fatalf("%s: stats %+v", what, res.Stats)
		}
		if !slices.Contains(res.Overflowed, len(seeds)) {
			t.Errorf("%s: the set of 300 nodes did not overflow: %v", what, res.Overflowed)
		}
		if slices.Contains(res.Overflowed, 0) {
			t.Errorf("%s: the isolated seed overflowed", what)
		}
		if len(res.Overflowed) < 10 {
			t.Errorf("%s: only %d of %d sets overflowed, want most: %v", what, len(res.Overflowed), len(seeds)+1, res.Overflowed)
		}
		checkPPRResult(t, what, g, ex, setPtr, setNodes, opt, res)

		// gopkg/ppr recomputes the overflowed rows on the CPU and splices
		// them in (tested there, and end to end in gopkg/ppr/pprcuda).

		// The automatic table size does not overflow.
		opt.TableCap = 0
		res = pprPush(t, g, setPtr, setNodes, opt)
		if len(res.Overflowed) != 0 {
			t.Errorf("%s: automatic table (%d slots) overflowed: %v", what, res.Stats.TableCap, res.Overflowed)
		}
		checkPPRResult(t, what+", automatic table", g, ex, setPtr, setNodes, opt, res)
	}
}

// wavesFixture is the graph of the multi-wave tests (300 nodes, alpha
// 0.25) with its exact PPR and nSeeds random single-node seeds, drawn from
// the PCG stream (seed, seed+1).
func wavesFixture(seed uint64, nSeeds int) (*testGraph, *exactCache, []int64) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	g := randomSymGraph(rng, 300, 800, 0.1, 10, 1)
	seeds := make([]int64, nSeeds)
	for i := range seeds {
		seeds[i] = int64(rng.IntN(g.n))
	}
	return g, &exactCache{g: g, alpha: 0.25}, seeds
}

func TestPPRWavesGPU(t *testing.T) {
	requireGPU(t)
	g, ex, seeds := wavesFixture(41, 40)
	const cap = 512
	ws := pprWorkspaceBytes(cap)
	// Top-k: room for 4 tables and the output of 6 sets per launch.
	opt := PPROptions{Alpha: 0.25, Eps: 1e-3, TopK: 8, TableCap: cap, MaxWarps: 4, MemBudget: 4*ws + 6*(8*8+12)}
	res := pprPush(t, g, nil, seeds, opt)
	if res.Stats.Launches != 7 || res.Stats.Warps != 4 {
		t.Errorf("top-k waves: stats %+v, want 7 launches of 4 warps", res.Stats)
	}
	checkPPRResult(t, "top-k in waves", g, ex, nil, seeds, opt, res)

	// All entries: an output pool for about two of the longest possible rows
	// while the rows (eps = 1e-4) hold most of the graph, so that launches
	// stop early and defer sets.
	maxRow := pprLimit(cap) + 32
	opt = PPROptions{Alpha: 0.25, Eps: 1e-4, TableCap: cap, MaxWarps: 4, MemBudget: 4*ws + 2*maxRow*8 + 40*20*2}
	res = pprPush(t, g, nil, seeds, opt)
	if res.Stats.Launches < 5 {
		t.Errorf("all-entries waves: stats %+v, want several launches", res.Stats)
	}
	checkPPRResult(t, "all entries in waves", g, ex, nil, seeds, opt, res)
	t.Logf("all entries: %d entries, %+v", len(res.Nodes), res.Stats)

	// A budget too small for one table.
	_, err := PPRPush(0, g.indptr, g.indices, nil, seeds, PPROptions{Alpha: 0.25, Eps: 1e-3, TableCap: cap, MemBudget: ws / 2})
	if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "memory budget") {
		t.Errorf("tiny budget: got %v, want ErrValue about the memory budget", err)
	}
}

func TestPPRGraphCacheGPU(t *testing.T) {
	requireGPU(t)
	if err := FreeGraphCache(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(51, 52))
	g := randomSymGraph(rng, 100, 300, 0.1, 5, 0)
	ex := &exactCache{g: g, alpha: 0.25}
	seeds := []int64{1, 2, 3}
	opt := PPROptions{Alpha: 0.25, Eps: 1e-3, TopK: 5, MaxWarps: 2}
	before := graphUploads.Load()
	if res := pprPush(t, g, nil, seeds, opt); !res.Stats.GraphUploaded {
		t.Error("first call did not upload the graph")
	}
	res := pprPush(t, g, nil, seeds, opt)
	if res.Stats.GraphUploaded || graphUploads.Load() != before+1 || cachedGraphs() != 1 {
		t.Errorf("second call: uploaded=%v, uploads %d, cached %d; want the cached copy", res.Stats.GraphUploaded,
			graphUploads.Load()-before, cachedGraphs())
	}
	checkPPRResult(t, "cached graph", g, ex, nil, seeds, opt, res)

	// A copy of the graph at another address is another entry.
	g2 := &testGraph{n: g.n, indptr: slices.Clone(g.indptr), indices: slices.Clone(g.indices)}
	if res := pprPush(t, g2, nil, seeds, opt); !res.Stats.GraphUploaded || cachedGraphs() != 2 {
		t.Errorf("copy: uploaded=%v cached=%d", res.Stats.GraphUploaded, cachedGraphs())
	}

	// Modified in place: the fingerprint changes (the first and the last
	// entries are always sampled) and the graph is uploaded again. (It is
	// no longer symmetric; only the upload is checked.)
	g2.indices[0], g2.indices[len(g2.indices)-1] = g2.indices[len(g2.indices)-1], g2.indices[0]
	if res := pprPush(t, g2, nil, seeds, opt); !res.Stats.GraphUploaded {
		t.Error("modified graph not uploaded again")
	}

	// Invalid graphs are refused before anything runs.
	bad := &testGraph{n: 3, indptr: []int64{0, 1, 2, 2}, indices: []int32{1, 7}}
	if _, err := PPRPush(0, bad.indptr, bad.indices, nil, []int64{0}, opt); !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "indices[1] = 7") {
		t.Errorf("index out of range: got %v", err)
	}
	bad = &testGraph{n: 3, indptr: []int64{0, 2, 1, 2}, indices: []int32{1, 0}}
	if _, err := PPRPush(0, bad.indptr, bad.indices, nil, []int64{0}, opt); !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "decreases") {
		t.Errorf("decreasing indptr: got %v", err)
	}

	// More graphs than the cache keeps: the oldest go.
	for range pprMaxCachedGraphs + 1 {
		h := randomSymGraph(rng, 50, 100, 0, 0, 0)
		pprPush(t, h, nil, []int64{0}, opt)
	}
	if n := cachedGraphs(); n != pprMaxCachedGraphs {
		t.Errorf("%d graphs cached, want at most %d", n, pprMaxCachedGraphs)
	}
	if err := FreeGraphCache(); err != nil {
		t.Fatal(err)
	}
	if n := cachedGraphs(); n != 0 {
		t.Errorf("%d graphs cached after FreeGraphCache", n)
	}
	if res := pprPush(t, g, nil, seeds, opt); !res.Stats.GraphUploaded {
		t.Error("graph not uploaded again after FreeGraphCache")
	}
	if err := FreeGraphCache(); err != nil {
		t.Fatal(err)
	}
}

func TestPPRConcurrentGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(61, 62))
	g := randomSymGraph(rng, 200, 500, 0.1, 5, 0)
	ex := &exactCache{g: g, alpha: 0.25}
	const workers = 4
	var wg sync.WaitGroup
	results := make([]*PPRResult, workers)
	seeds := make([][]int64, workers)
	errs := make([]error, workers)
	for w := range workers {
		seeds[w] = []int64{int64(w), int64(w + 10), int64(w + 20)}
		wg.Go(func() {
			results[w], errs[w] = PPRPush(0, g.indptr, g.indices, nil, seeds[w], PPROptions{Alpha: 0.25, Eps: 1e-3, TopK: w * 10, MaxWarps: 2})
		})
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		checkPPRResult(t, fmt.Sprintf("worker %d", w), g, ex, nil, seeds[w], PPROptions{Alpha: 0.25, Eps: 1e-3, TopK: w * 10}, results[w])
	}
	if os.Getenv("IBMB_LIBCUDA") == "" {
		t.Logf("ran on %s", func() string { i, _ := Device(0); return i.String() }())
	}
	if err := PreparePPR(0); err != nil {
		t.Errorf("PreparePPR(0) after use: %v", err)
	}
	if err := PreparePPR(-1); !errors.Is(err, ErrValue) {
		t.Errorf("PreparePPR(-1): got %v, want ErrValue", err)
	}
}
