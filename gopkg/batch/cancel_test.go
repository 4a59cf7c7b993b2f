package batch

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/internal/canceltest"
)

// TestSortStop checks sortStop against slices.SortFunc for a total order,
// on both of its paths (small slices, runs merged in passes), and that a
// closed channel stops it.
func TestSortStop(t *testing.T) {
	byScore := func(x, y pair) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	}
	open := make(chan struct{})
	closed := make(chan struct{})
	close(closed)
	sizes := []int{0, 1, 5, 2 * sortRun, 2*sortRun + 1, 5*sortRun + 17, 300_000}
	if raceEnabled {
		sizes = sizes[:len(sizes)-1]
	}
	for _, n := range sizes {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprint(n, "/", workers), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(n), 9))
				s := make([]pair, n)
				for i := range s {
					// Few distinct scores: ties are broken by (A, B).
					s[i] = pair{A: int32(r.IntN(1000)), B: int32(r.IntN(1000)), Score: float64(r.IntN(10))}
				}
				want := slices.Clone(s)
				slices.SortFunc(want, byScore)
				got := slices.Clone(s)
				if !sortStop(got, byScore, workers, open) {
					t.Fatal("stopped with an open channel")
				}
				if !slices.Equal(got, want) {
					t.Fatal("differs from slices.SortFunc")
				}
				if n > 0 && sortStop(slices.Clone(s), byScore, workers, closed) {
					t.Error("did not report the closed channel")
				}
			})
		}
	}
}

// TestParallelForStop checks that every task runs once with an open
// channel and none after it is closed.
func TestParallelForStop(t *testing.T) {
	open := make(chan struct{})
	closed := make(chan struct{})
	close(closed)
	for _, stop := range []chan struct{}{nil, open} {
		var count [1000]atomic.Int32
		if !parallelForStop(len(count), 4, stop, func(_, i int) { count[i].Add(1) }) {
			t.Fatal("stopped with an open channel")
		}
		for i := range count {
			if count[i].Load() != 1 {
				t.Fatalf("task %d ran %d times", i, count[i].Load())
			}
		}
	}
	var ran atomic.Int32
	if parallelForStop(1000, 4, closed, func(_, _ int) { ran.Add(1) }) || ran.Load() != 0 {
		t.Errorf("closed channel: %d tasks ran", ran.Load())
	}
}

// cancelAt runs call with a context cancelled after delay and checks
// (canceltest.Cancel) that it stops promptly, with no batches. It reports
// whether the call finished before the cancellation (then nothing else is
// checked).
func cancelAt(t *testing.T, delay time.Duration, call func(ctx context.Context) (*Batches, error)) bool {
	t.Helper()
	b, err := canceltest.Cancel(t, delay, call)
	if err == nil {
		// The builders look at ctx before returning: no error means the
		// call had finished when cancel ran.
		return true
	}
	if b != nil {
		t.Fatalf("got %v batches with error %v", b, err)
	}
	return false
}

// TestCancel times each builder uncancelled, then cancels it at fractions
// of that time so that its phases (PPR, the pair sorts and merges, the
// unions, batch-wise refinement) each get cancelled in some run.
func TestCancel(t *testing.T) {
	n := 30_000
	if raceEnabled {
		n = 5_000
	}
	g, _ := csbmGraph(t, n, 10, 10, 0.6)
	parts := make([]int32, n)
	for i := range parts {
		parts[i] = int32(i * 7919 % 16)
	}
	cases := []struct {
		name string
		call func(ctx context.Context) (*Batches, error)
	}{
		{"node-wise", func(ctx context.Context) (*Batches, error) {
			return NodeWiseContext(ctx, g, iota64(n), NodeWiseOptions{NumAuxNodes: 32, MaxOutputsPerBatch: 256, Alpha: 0.25, Eps: 1e-3})
		}},
		{"batch-wise", func(ctx context.Context) (*Batches, error) {
			return BatchWiseContext(ctx, g, iota64(n/5), parts, 16, BatchWiseOptions{ExpandRatio: 1, Alpha: 0.25, Eps: 1e-3})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			ref, err := c.call(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			full := time.Since(start)
			live, stop := context.WithCancel(context.Background())
			defer stop()
			if b, err := c.call(live); err != nil || hashBatches(b) != hashBatches(ref) {
				t.Fatalf("a live context changed the result (error %v)", err)
			}
			t.Logf("uncancelled: %v", full)
			for _, frac := range []float64{0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95} {
				if cancelAt(t, time.Duration(frac*float64(full)), c.call) {
					t.Logf("finished before the cancellation at %.2f of its first run", frac)
				}
			}
		})
	}
}

// hashBatches is a checksum of b's arrays.
func hashBatches(b *Batches) uint64 {
	h := uint64(14695981039346656037)
	for _, a := range [][]int64{b.OutPtr, b.Out, b.NodePtr, b.Nodes} {
		for _, v := range a {
			h = (h ^ uint64(v)) * 1099511628211
		}
		h = (h ^ 0xff) * 1099511628211
	}
	return h
}
