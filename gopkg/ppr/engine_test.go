package ppr

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestNodeWiseWorkers checks that the result does not depend on the number
// of workers, and that repeated targets give identical rows.
func TestNodeWiseWorkers(t *testing.T) {
	g := rmatSymmetric(t, 11, 8)
	targets := append(sampleNodes(7, g.NumNodes, 300), 5, 5, 0, 5)
	for _, k := range []int{0, 1, 16} {
		opt := Options{Alpha: 0.25, Eps: 1e-4, TopK: k, Workers: 1}
		ref, refStats, err := NodeWise(g, targets, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{2, 7, 0} {
			opt.Workers = w
			res, st, err := NodeWise(g, targets, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Indptr, ref.Indptr) || !slices.Equal(res.Nodes, ref.Nodes) || !slices.Equal(res.Scores, ref.Scores) {
				t.Errorf("topk %d: %d workers give a different result than 1", k, w)
			}
			if st != refStats {
				t.Errorf("topk %d: %d workers give stats %v, 1 gives %v", k, w, st, refStats)
			}
		}
		n := len(targets)
		for _, i := range []int{n - 4, n - 3, n - 1} {
			a, sa := ref.Row(i)
			b, sb := ref.Row(n - 4)
			if !slices.Equal(a, b) || !slices.Equal(sa, sb) {
				t.Errorf("topk %d: repeated target 5 gives different rows", k)
			}
		}
		for i := range n {
			checkRow(t, ref, i, g.NumNodes)
			if k > 0 && ref.Indptr[i+1]-ref.Indptr[i] > int64(k) {
				t.Fatalf("row %d has more than %d entries", i, k)
			}
		}
	}
}

// TestNodeWiseProgress checks the progress calls: on the calling
// goroutine's side, serialized, non-decreasing, at most 101, ending with
// total.
func TestNodeWiseProgress(t *testing.T) {
	g := rmatSymmetric(t, 10, 8)
	for _, n := range []int{1, 7, 100, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			targets := sampleNodes(2, g.NumNodes, n)
			var mu sync.Mutex
			var calls []int
			opt := Options{Alpha: 0.25, Eps: 1e-3, Workers: 3, Progress: func(done, total int) {
				if !mu.TryLock() {
					t.Error("progress calls overlap")
					return
				}
				defer mu.Unlock()
				if total != n {
					t.Errorf("total %d, want %d", total, n)
				}
				calls = append(calls, done)
			}}
			if _, _, err := NodeWise(g, targets, opt); err != nil {
				t.Fatal(err)
			}
			if len(calls) == 0 || len(calls) > 101 || calls[len(calls)-1] != n {
				t.Fatalf("progress calls %v", calls)
			}
			if !slices.IsSorted(calls) || calls[0] <= 0 {
				t.Errorf("progress not increasing: %v", calls)
			}
		})
	}
}

// TestNumWorkers checks how the worker count is chosen.
func TestNumWorkers(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	cases := []struct{ workers, tasks, want int }{
		{0, 1000, procs},
		{0, 1, 1},
		{3, 1000, 3},
		{3, 2, 2},
		{1, 1000, 1},
	}
	for _, c := range cases {
		opt := Options{Workers: c.workers}
		if got := opt.numWorkers(c.tasks); got != c.want {
			t.Errorf("workers %d, tasks %d: got %d, want %d", c.workers, c.tasks, got, c.want)
		}
	}
}
