package ppr

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// fuzzWork bounds the work of one FuzzNodeWise input: admissible
// parameters whose bound len(targets)/(alpha·eps) exceeds it are checked
// with an already cancelled context, then run with eps raised to fit, so
// that every input stays cheap and deterministic.
const fuzzWork = 1e6

// FuzzNodeWise builds a small graph from the fuzzer's bytes (each pair of
// bytes is an edge) and checks that NodeWise never panics or hangs, that
// invalid parameters (tiny alpha or eps included) give value or index
// errors, and that valid ones give well-formed rows within the documented
// work bound: at most 1/(alpha·eps) plus the target's degree neighbour
// updates per vector.
func FuzzNodeWise(f *testing.F) {
	f.Add([]byte{0, 1, 1, 2, 2, 0}, uint8(4), 0.25, 1e-4, 3, uint8(1), []byte{0, 3})
	f.Add([]byte{}, uint8(1), 0.5, 1.0, 0, uint8(2), []byte{0})
	f.Add([]byte{0, 0, 3, 3}, uint8(5), 0.0, 1e-3, -1, uint8(0), []byte{4, 4, 9})
	f.Add([]byte{1, 2}, uint8(3), 0.9, math.NaN(), 1, uint8(3), []byte{})
	// Issue 12: these never returned.
	f.Add([]byte{0, 1, 1, 2, 2, 3, 3, 0}, uint8(4), 1e-9, 1e-5, 0, uint8(1), []byte{2, 3})
	f.Add([]byte{0, 1, 1, 2, 2, 3, 3, 0}, uint8(4), 0.2, 5e-324, 0, uint8(1), []byte{2, 3})
	// Admissible but costly: eps is raised to fit fuzzWork.
	f.Add([]byte{0, 1, 1, 2, 2, 3, 3, 0, 0, 2}, uint8(4), 1e-9, 0.1, 0, uint8(1), []byte{2, 3})
	f.Add([]byte{0, 1, 1, 2, 2, 3, 3, 0, 0, 2}, uint8(4), 0.01, 1e-8, 2, uint8(2), []byte{2, 3, 4})
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
		opt := Options{Alpha: alpha, Eps: eps, TopK: topk, Workers: int(workers%5) - 1}
		validParams := alpha > 0 && alpha < 1 && eps > 0 && !math.IsInf(eps, 0) && opt.Workers >= 0 &&
			1/(alpha*eps) <= MaxWork
		inRange := len(targets) > 0
		for _, s := range targets {
			inRange = inRange && s >= 0 && s < int64(numNodes)
		}
		if validParams && inRange {
			if err := CheckParams(alpha, eps); err != nil {
				t.Fatalf("CheckParams(%v, %v) = %v", alpha, eps, err)
			}
			if work := float64(len(targets)) / (alpha * eps); work > fuzzWork {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if res, _, err := NodeWiseContext(ctx, g, targets, opt); !errors.Is(err, context.Canceled) || res != nil {
					t.Fatalf("cancelled call: %v, %v", res, err)
				}
				eps = float64(len(targets)) / (alpha * fuzzWork)
				opt.Eps = eps
			}
		}
		res, st, err := NodeWise(g, targets, opt)
		switch {
		case !validParams || !inRange:
			if err == nil {
				t.Fatalf("invalid input accepted: alpha %v eps %v workers %d targets %v", alpha, eps, opt.Workers, targets)
			}
			if !errors.Is(err, graph.ErrValue) && !errors.Is(err, graph.ErrIndex) {
				t.Fatalf("invalid input gave %v, want a value or index error", err)
			}
			return
		case err != nil:
			t.Fatalf("valid input rejected: %v", err)
		}
		if res.NumRows() != len(targets) {
			t.Fatalf("%d rows for %d targets", res.NumRows(), len(targets))
		}
		bound := 0.0
		for i, s := range targets {
			checkRow(t, res, i, numNodes)
			if topk > 0 && res.Indptr[i+1]-res.Indptr[i] > int64(topk) {
				t.Fatalf("row %d longer than %d", i, topk)
			}
			bound += 1/(alpha*eps) + float64(g.Indptr[s+1]-g.Indptr[s])
		}
		if float64(st.EdgePushes) > bound*(1+1e-9) {
			t.Fatalf("%d neighbour updates, more than the bound %g", st.EdgePushes, bound)
		}
	})
}
