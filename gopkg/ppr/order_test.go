package ppr

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// stackPush is a plain reference of the push with a LIFO work list, written
// the way PyG's get_ppr works: residual alpha at the target, the whole
// residual moves into p, nodes enter the list when their residual reaches
// alpha·eps·deg and are not on it already. Returns the dense estimate.
func stackPush(g *graph.CSR, target int, alpha, eps float64) []float64 {
	n := g.NumNodes
	p := make([]float64, n)
	r := make([]float64, n)
	onList := make([]bool, n)
	r[target] = alpha
	list := []int{target}
	onList[target] = true
	for len(list) > 0 {
		u := list[len(list)-1]
		list = list[:len(list)-1]
		onList[u] = false
		res := r[u]
		p[u] += res
		r[u] = 0
		deg := g.Degree(u)
		for _, v := range g.Row(u) {
			r[v] += (1 - alpha) * res / float64(deg)
			if r[v] >= alpha*eps*float64(g.Degree(int(v))) && !onList[v] {
				list = append(list, int(v))
				onList[v] = true
			}
		}
	}
	return p
}

func TestLIFOMatchesStackReference(t *testing.T) {
	for _, tc := range []struct {
		name       string
		g          *graph.CSR
		alpha, eps float64
	}{
		{"random", randomSymmetric(t, 3, 300, 1500, 5, true, false), 0.2, 1e-4},
		{"random-dedup", randomSymmetric(t, 4, 500, 4000, 0, false, true), 0.25, 2e-5},
		{"directed", randomDirected(t, 5, 200, 900), 0.15, 1e-4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			targets := sampleNodes(11, tc.g.NumNodes, 20)
			res, _, err := NodeWise(tc.g, targets, Options{Alpha: tc.alpha, Eps: tc.eps, Order: OrderLIFO})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range targets {
				want := stackPush(tc.g, int(s), tc.alpha, tc.eps)
				got := dense(res, i, tc.g.NumNodes)
				for v := range want {
					// float32 output of the same float64 computation.
					if math.Abs(got[v]-want[v]) > 1e-6*want[v]+1e-12 || (want[v] == 0) != (got[v] == 0) {
						t.Fatalf("target %d node %d: LIFO %g, reference %g", s, v, got[v], want[v])
					}
				}
			}
		})
	}
}

func TestLIFOKeepsGuarantee(t *testing.T) {
	g := randomSymmetric(t, 8, 400, 2500, 10, true, false)
	targets := sampleNodes(2, g.NumNodes, 15)
	const alpha, eps = 0.25, 1e-4
	res, _, err := NodeWise(g, targets, Options{Alpha: alpha, Eps: eps, Order: OrderLIFO, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	exact := exactParallel(t, g, singletons(targets), alpha)
	for i := range targets {
		checkBound(t, g, "lifo", dense(res, i, g.NumNodes), exact[i], eps)
	}
}

func TestDeviceOptions(t *testing.T) {
	g := randomSymmetric(t, 1, 50, 200, 0, false, true)
	if _, _, err := NodeWise(g, []int64{0}, Options{Alpha: 0.2, Eps: 1e-4, Order: 7}); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("bad order: %v", err)
	}
	if _, _, err := NodeWise(g, []int64{0}, Options{Alpha: 0.2, Eps: 1e-4, Order: OrderLIFO, Device: Device{CUDA: true}}); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("LIFO on GPU: %v", err)
	}
	if _, _, err := NodeWise(g, []int64{0}, Options{Alpha: 0.2, Eps: 1e-4, Device: Device{CUDA: true, Ordinal: -1}}); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("negative ordinal: %v", err)
	}
	// No backend registered in this package's tests (device_test.go covers
	// registered ones; gopkg/ppr/pprcuda the CUDA one).
	_, _, err := NodeWise(g, []int64{0, 1}, Options{Alpha: 0.2, Eps: 1e-4, Device: Device{CUDA: true}})
	if !errors.Is(err, errs.Unavailable) {
		t.Fatalf("no backend registered: want an unavailable error, got %v", err)
	}
}

func TestRelabelGivesIdenticalResults(t *testing.T) {
	g := rmatSymmetric(t, 17, 4)
	targets := make([]int64, relabelMinTasks)
	for i := range targets {
		targets[i] = int64(i * 31 % g.NumNodes)
	}
	for _, order := range []Order{OrderFIFO, OrderLIFO} {
		opt := Options{Alpha: 0.25, Eps: 1e-3, TopK: 8, Order: order}
		a, sa, err := NodeWise(g, targets, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.noRelabel = true
		b, sb, err := NodeWise(g, targets, opt)
		if err != nil {
			t.Fatal(err)
		}
		if sa != sb || !slices.Equal(a.Indptr, b.Indptr) || !slices.Equal(a.Nodes, b.Nodes) || !slices.Equal(a.Scores, b.Scores) {
			t.Fatalf("order %d: relabelled results differ (stats %+v vs %+v)", order, sa, sb)
		}
	}
}
