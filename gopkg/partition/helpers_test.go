package partition

import (
	"math/rand/v2"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func buildCSR(tb testing.TB, src, dst []int64, n int) *graph.CSR {
	tb.Helper()
	g, err := graph.FromCOO(src, dst, n, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// gridGraph returns the rows×cols 4-neighbour grid.
func gridGraph(tb testing.TB, rows, cols int) *graph.CSR {
	var src, dst []int64
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			u := int64(r*cols + c)
			if c+1 < cols {
				src, dst = append(src, u), append(dst, u+1)
			}
			if r+1 < rows {
				src, dst = append(src, u), append(dst, u+int64(cols))
			}
		}
	}
	return buildCSR(tb, src, dst, rows*cols)
}

// randomGraph returns an Erdős–Rényi style graph with m random edges.
func randomGraph(tb testing.TB, n, m int, seed uint64) *graph.CSR {
	r := rand.New(rand.NewPCG(seed, 7))
	src, dst := make([]int64, m), make([]int64, m)
	for i := range src {
		src[i], dst[i] = int64(r.IntN(n)), int64(r.IntN(n))
	}
	return buildCSR(tb, src, dst, n)
}

func csbmGraph(tb testing.TB, n, classes int, deg, hom float64, seed uint64) *graph.CSR {
	sg, err := synth.CSBM{NumNodes: n, NumClasses: classes, AvgDegree: deg, Homophily: hom, Seed: seed}.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	return buildCSR(tb, sg.Src, sg.Dst, n)
}

// randomCut is the edge cut of a random balanced partition (node i goes to
// part perm(i) mod parts).
func randomCut(g *graph.CSR, parts int, seed uint64) int64 {
	perm := rand.New(rand.NewPCG(seed, 11)).Perm(g.NumNodes)
	part := make([]int32, g.NumNodes)
	for i, p := range perm {
		part[i] = int32(p % parts)
	}
	return EdgeCut(g, part)
}

// checkPartition asserts the invariants and returns cut and balance.
func checkPartition(t *testing.T, g *graph.CSR, part []int32, opt Options) (int64, float64) {
	t.Helper()
	if len(part) != g.NumNodes {
		t.Fatalf("len(part) = %d, want %d", len(part), g.NumNodes)
	}
	for u, p := range part {
		if p < 0 || int(p) >= opt.Parts {
			t.Fatalf("part[%d] = %d out of [0, %d)", u, p, opt.Parts)
		}
	}
	eps := opt.Imbalance
	if eps == 0 {
		eps = DefaultImbalance
	}
	total, wmax := int64(0), int64(0)
	for u := 0; u < g.NumNodes; u++ {
		w := int64(1)
		if opt.NodeWeights != nil {
			w = opt.NodeWeights[u]
		}
		total += w
		wmax = max(wmax, w)
	}
	bal := Balance(part, opt.Parts, opt.NodeWeights)
	if total > 0 {
		// Documented guarantee: Balance ≤ 1 + Imbalance + wmax·Parts/total.
		bound := 1 + eps + float64(wmax)*float64(opt.Parts)/float64(total) + 1e-9
		if bal > bound {
			t.Errorf("balance %.4f exceeds bound %.4f", bal, bound)
		}
	}
	return EdgeCut(g, part), bal
}
