package ppr

import (
	"fmt"
	"math"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestPushBound checks the push guarantee 0 ≤ p − p̂ ≤ eps·deg on random
// symmetric graphs with isolated nodes, self-loops and parallel edges, for
// every node as target.
func TestPushBound(t *testing.T) {
	cases := []struct {
		n, e, isolated   int
		selfLoops, dedup bool
		alpha, eps       float64
	}{
		{n: 1, e: 0, isolated: 1, alpha: 0.25, eps: 1e-3},
		{n: 2, e: 1, alpha: 0.25, eps: 1e-4},
		{n: 30, e: 40, isolated: 5, selfLoops: true, alpha: 0.15, eps: 1e-3},
		{n: 60, e: 150, isolated: 3, selfLoops: true, dedup: true, alpha: 0.25, eps: 2e-4},
		{n: 80, e: 100, selfLoops: false, dedup: true, alpha: 0.5, eps: 1e-2},
		{n: 100, e: 500, isolated: 10, selfLoops: true, alpha: 0.1, eps: 1e-5},
		{n: 200, e: 300, isolated: 20, alpha: 0.9, eps: 0.5},
	}
	for ci, c := range cases {
		name := fmt.Sprintf("n=%d,e=%d,iso=%d,loops=%v,dedup=%v,alpha=%v,eps=%v",
			c.n, c.e, c.isolated, c.selfLoops, c.dedup, c.alpha, c.eps)
		t.Run(name, func(t *testing.T) {
			g := randomSymmetric(t, uint64(ci), c.n, c.e, c.isolated, c.selfLoops, c.dedup)
			targets := make([]int64, c.n)
			sets := make([][]int64, c.n)
			for i := range targets {
				targets[i] = int64(i)
				sets[i] = []int64{int64(i)}
			}
			res, st, err := NodeWise(g, targets, Options{Alpha: c.alpha, Eps: c.eps})
			if err != nil {
				t.Fatal(err)
			}
			if st.Pushes < int64(c.n) {
				t.Errorf("%d pushes for %d targets", st.Pushes, c.n)
			}
			exact := exactParallel(t, g, sets, c.alpha)
			worst := 0.0
			for i := range targets {
				checkRow(t, res, i, c.n)
				est := dense(res, i, c.n)
				worst = max(worst, checkBound(t, g, fmt.Sprintf("target %d", i), est, exact[i], c.eps))
			}
			t.Logf("largest (p − p̂)/(eps·deg): %.3f", worst)
		})
	}
}

// TestPushBoundRMAT checks the guarantee on a symmetrized power-law graph.
func TestPushBoundRMAT(t *testing.T) {
	g := rmatSymmetric(t, 12, 8)
	k := 40
	if raceEnabled || testing.Short() {
		k = 10
	}
	targets := sampleNodes(1, g.NumNodes, k)
	for _, eps := range []float64{1e-3, 1e-4} {
		res, _, err := NodeWise(g, targets, Options{Alpha: 0.25, Eps: eps})
		if err != nil {
			t.Fatal(err)
		}
		sets := make([][]int64, k)
		for i, s := range targets {
			sets[i] = []int64{s}
		}
		exact := exactParallel(t, g, sets, 0.25)
		worst := 0.0
		for i := range targets {
			checkRow(t, res, i, g.NumNodes)
			worst = max(worst, checkBound(t, g, fmt.Sprintf("eps %v, target %d", eps, targets[i]), dense(res, i, g.NumNodes), exact[i], eps))
		}
		t.Logf("eps %v: largest (p − p̂)/(eps·deg) %.3f", eps, worst)
	}
}

// TestIsolatedTarget checks the push on a target without out-edges: one
// push moves alpha of its unit residual into p̂ and the rest is lost, which
// is also what Exact computes.
func TestIsolatedTarget(t *testing.T) {
	// Node 2 is isolated; node 3 has only a self-loop; 0–1 is an edge.
	g, err := graph.FromCOO([]int64{0, 3}, []int64{1, 3}, 4, graph.Options{Symmetrize: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, alpha := range []float64{0.1, 0.25, 0.9} {
		res, st, err := NodeWise(g, []int64{2, 3}, Options{Alpha: alpha, Eps: 1e-6})
		if err != nil {
			t.Fatal(err)
		}
		nodes, scores := res.Row(0)
		if len(nodes) != 1 || nodes[0] != 2 || scores[0] != float32(alpha) {
			t.Errorf("alpha %v: isolated target row is %v %v, want [2] [%v]", alpha, nodes, scores, float32(alpha))
		}
		ex, err := Exact(g, []int64{2}, alpha, exactTol)
		if err != nil {
			t.Fatal(err)
		}
		if ex[2] != alpha {
			t.Errorf("alpha %v: Exact gives %v at an isolated target", alpha, ex[2])
		}
		// A node with only a self-loop keeps all its mass: p = 1, and the
		// residual left behind is below eps·deg = 1e-6.
		nodes, scores = res.Row(1)
		if len(nodes) != 1 || nodes[0] != 3 || math.Abs(float64(scores[0])-1) > 1e-6+1e-7 {
			t.Errorf("alpha %v: self-loop target row is %v %v, want [3] [≈1]", alpha, nodes, scores)
		}
		if st.Pushes < 2 {
			t.Errorf("alpha %v: %d pushes", alpha, st.Pushes)
		}
	}
}

// TestSinkNodes checks a directed graph with nodes without out-edges: their
// mass is absorbed, nothing becomes NaN, and the total error stays within
// the directed bound Σ(p − p̂) ≤ eps·E.
func TestSinkNodes(t *testing.T) {
	// 0 → 1 → 2, 0 → 3, 3 → 0; nodes 2 and 4 are sinks.
	g, err := graph.FromCOO([]int64{0, 1, 0, 3}, []int64{1, 2, 3, 0}, 5, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const alpha, eps = 0.3, 1e-7
	res, _, err := NodeWise(g, []int64{0, 1, 2, 3, 4}, Options{Alpha: alpha, Eps: eps})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		checkRow(t, res, i, 5)
		ex, err := Exact(g, []int64{int64(i)}, alpha, exactTol)
		if err != nil {
			t.Fatal(err)
		}
		est := dense(res, i, 5)
		total := 0.0
		for v := range ex {
			diff := ex[v] - est[v]
			if diff < -1e-7*ex[v]-2*exactTol {
				t.Errorf("target %d node %d: push %v exceeds exact %v", i, v, est[v], ex[v])
			}
			total += diff
		}
		if total > eps*float64(g.NumEdges())+1e-6 {
			t.Errorf("target %d: total error %v above eps·E", i, total)
		}
	}
}

// TestQueueGrowth drives more than the initial queue capacity into the
// queue at once: the centre of a large star pushes every leaf over its
// threshold.
func TestQueueGrowth(t *testing.T) {
	const leaves = 5000
	src := make([]int64, leaves)
	dst := make([]int64, leaves)
	for i := range src {
		dst[i] = int64(i + 1)
	}
	g, err := graph.FromCOO(src, dst, leaves+1, graph.Options{Symmetrize: true})
	if err != nil {
		t.Fatal(err)
	}
	const alpha = 0.25
	// Target set {0, 1, ..., 3000}: many initial queue entries too, and
	// the queue grows while some of them are still waiting.
	set := make([]int64, 3001)
	for i := range set {
		set[i] = int64(i)
	}
	// With eps = 1e-3 the share 1/3001 of a leaf in the set is below its
	// threshold, so it is pushed only because it is a teleport node.
	for _, eps := range []float64{1e-6, 1e-3} {
		for _, targets := range [][]int64{{0}, set} {
			res, _, err := SetWise(g, []int64{0, int64(len(targets))}, targets, Options{Alpha: alpha, Eps: eps})
			if err != nil {
				t.Fatal(err)
			}
			checkRow(t, res, 0, g.NumNodes)
			ex, err := Exact(g, targets, alpha, exactTol)
			if err != nil {
				t.Fatal(err)
			}
			est := dense(res, 0, g.NumNodes)
			checkBound(t, g, fmt.Sprintf("star, eps %v, %d targets", eps, len(targets)), est, ex, eps)
			for _, v := range targets {
				if est[v] == 0 {
					t.Fatalf("eps %v, %d targets: target %d not pushed", eps, len(targets), v)
				}
			}
			if got := res.Indptr[1]; eps == 1e-6 && got != leaves+1 {
				t.Errorf("%d targets: %d entries, want all %d nodes", len(targets), got, leaves+1)
			}
		}
	}
}

// TestTeleportPushedOnce checks that a target is pushed even when its
// residual is below its threshold, as PyG's get_ppr does, so that every
// target appears in its own row.
func TestTeleportPushedOnce(t *testing.T) {
	g := randomSymmetric(t, 5, 50, 400, 0, false, true)
	res, st, err := NodeWise(g, []int64{0, 1, 2}, Options{Alpha: 0.2, Eps: 10})
	if err != nil {
		t.Fatal(err)
	}
	if st.Pushes != 3 {
		t.Errorf("%d pushes, want 3", st.Pushes)
	}
	for i := range 3 {
		nodes, scores := res.Row(i)
		if len(nodes) != 1 || nodes[0] != int32(i) || scores[0] != 0.2 {
			t.Errorf("row %d: %v %v, want [%d] [0.2]", i, nodes, scores, i)
		}
	}
}

// TestNegZeroMarker checks the ±0 trick that marks touched nodes.
func TestNegZeroMarker(t *testing.T) {
	if math.Float64bits(negZero) == 0 || negZero != 0 || 1+negZero != 1 || !math.Signbit(negZero) {
		t.Fatal("negZero is not a negative zero")
	}
	if math.Float64bits(negZero+0.5) != math.Float64bits(0.5) {
		t.Fatal("−0 + x is not x")
	}
}
