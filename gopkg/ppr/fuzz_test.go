package ppr

import (
	"math"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// FuzzNodeWise builds a small graph from the fuzzer's bytes (each pair of
// bytes is an edge) and checks that NodeWise never panics, that invalid
// parameters give errors and that valid ones give well-formed rows.
func FuzzNodeWise(f *testing.F) {
	f.Add([]byte{0, 1, 1, 2, 2, 0}, uint8(4), 0.25, 1e-4, 3, uint8(1), []byte{0, 3})
	f.Add([]byte{}, uint8(1), 0.5, 1.0, 0, uint8(2), []byte{0})
	f.Add([]byte{0, 0, 3, 3}, uint8(5), 0.0, 1e-3, -1, uint8(0), []byte{4, 4, 9})
	f.Add([]byte{1, 2}, uint8(3), 0.9, math.NaN(), 1, uint8(3), []byte{})
	f.Fuzz(func(t *testing.T, edges []byte, n uint8, alpha, eps float64, topk int, workers uint8, tgt []byte) {
		numNodes := int(n % 64)
		var src, dst []int64
		for i := 0; i+1 < len(edges) && numNodes > 0; i += 2 {
			src = append(src, int64(int(edges[i])%numNodes))
			dst = append(dst, int64(int(edges[i+1])%numNodes))
		}
		sym := len(edges)%2 == 0
		g, err := graph.FromCOO(src, dst, numNodes, graph.Options{Symmetrize: sym})
		if err != nil {
			t.Fatal(err)
		}
		targets := make([]int64, len(tgt))
		for i, b := range tgt {
			targets[i] = int64(b) - 2 // a few negative ids
		}
		// Valid but extreme parameters are clamped so that one run stays
		// cheap (at most 1/(alpha·eps) work per vector).
		if alpha > 0 && alpha < 0.05 {
			alpha = 0.05
		}
		if eps > 0 && eps < 1e-4 {
			eps = 1e-4
		}
		opt := Options{Alpha: alpha, Eps: eps, TopK: topk, Workers: int(workers%5) - 1}
		res, _, err := NodeWise(g, targets, opt)
		validParams := alpha > 0 && alpha < 1 && eps > 0 && !math.IsInf(eps, 0) && opt.Workers >= 0
		inRange := len(targets) > 0
		for _, s := range targets {
			inRange = inRange && s >= 0 && s < int64(numNodes)
		}
		if validParams && inRange {
			if err != nil {
				t.Fatalf("valid input rejected: %v", err)
			}
			if res.NumRows() != len(targets) {
				t.Fatalf("%d rows for %d targets", res.NumRows(), len(targets))
			}
			for i := range targets {
				checkRow(t, res, i, numNodes)
				if topk > 0 && res.Indptr[i+1]-res.Indptr[i] > int64(topk) {
					t.Fatalf("row %d longer than %d", i, topk)
				}
			}
		} else if err == nil {
			t.Fatalf("invalid input accepted: alpha %v eps %v workers %d targets %v", alpha, eps, opt.Workers, targets)
		}
	})
}
