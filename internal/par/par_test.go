package par_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ibmb-dev/ibmb/internal/par"
)

func TestRun(t *testing.T) {
	for _, workers := range []int{-1, 0, 1, 2, 7} {
		var mu sync.Mutex
		var seen []int
		par.Run(workers, func(w int) {
			mu.Lock()
			seen = append(seen, w)
			mu.Unlock()
		})
		slices.Sort(seen)
		want := make([]int, max(workers, 1))
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(seen, want) {
			t.Errorf("workers %d: saw %v", workers, seen)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		n     int64
		parts int
	}{{0, 1}, {0, 3}, {1, 4}, {10, 3}, {100, 7}, {5, 0}, {1 << 40, 3}} {
		got := make([][2]int64, max(c.parts, 1))
		par.Split(c.n, c.parts, func(k int, lo, hi int64) { got[k] = [2]int64{lo, hi} })
		// Contiguous, in order, covering [0, n), nearly equal, and the
		// same as Bounds.
		prev := int64(0)
		for k, b := range got {
			if b[0] != prev || b[1] < b[0] {
				t.Fatalf("n %d parts %d: part %d is %v after %d", c.n, c.parts, k, b, prev)
			}
			if lo, hi := par.Bounds(c.n, max(c.parts, 1), k); lo != b[0] || hi != b[1] {
				t.Fatalf("n %d parts %d: part %d %v, Bounds %d..%d", c.n, c.parts, k, b, lo, hi)
			}
			if size, even := b[1]-b[0], c.n/int64(len(got)); size < even || size > even+1 {
				t.Fatalf("n %d parts %d: part %d has %d elements", c.n, c.parts, k, size)
			}
			prev = b[1]
		}
		if prev != c.n {
			t.Fatalf("n %d parts %d: parts end at %d", c.n, c.parts, prev)
		}
	}
}

func TestFor(t *testing.T) {
	for _, c := range []struct{ n, workers, chunk int }{
		{0, 4, 3}, {1, 4, 3}, {10, 1, 3}, {10, 4, 3}, {1000, 3, 16}, {1000, 8, 1}, {17, 2, 0}, {5, 100, 1},
	} {
		hits := make([]atomic.Int32, c.n)
		maxW := atomic.Int32{}
		ok := par.For(c.n, c.workers, c.chunk, nil, func(w, lo, hi int) bool {
			if w < 0 || w >= max(c.workers, 1) {
				t.Errorf("worker %d of %d", w, c.workers)
			}
			if hi-lo > max(c.chunk, 1) || hi <= lo {
				t.Errorf("chunk [%d, %d) with chunk size %d", lo, hi, c.chunk)
			}
			if int32(w) > maxW.Load() {
				maxW.Store(int32(w))
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
			return true
		})
		if !ok {
			t.Errorf("%+v: For reported a stop", c)
		}
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("%+v: index %d ran %d times", c, i, hits[i].Load())
			}
		}
	}
}

// TestForStops: a closed done or a false return stops handing out chunks;
// every chunk below the last one handed out has run.
func TestForStops(t *testing.T) {
	closed := make(chan struct{})
	close(closed)
	for _, workers := range []int{1, 4} {
		ran := atomic.Int64{}
		if par.For(100, workers, 1, closed, func(int, int, int) bool { ran.Add(1); return true }) || ran.Load() != 0 {
			t.Errorf("workers %d: closed done: ran %d chunks", workers, ran.Load())
		}
		var mu sync.Mutex
		var done []int
		ok := par.For(1000, workers, 10, nil, func(_ int, lo, hi int) bool {
			mu.Lock()
			done = append(done, lo)
			mu.Unlock()
			return lo != 300
		})
		if ok {
			t.Errorf("workers %d: a false return was not reported", workers)
		}
		slices.Sort(done)
		for i := 0; i <= 30; i++ {
			if i >= len(done) || done[i] != 10*i {
				t.Fatalf("workers %d: chunks below the stop did not all run: %v", workers, done)
			}
		}
		if len(done) > 31+workers {
			t.Errorf("workers %d: %d chunks ran after the stop", workers, len(done)-31)
		}
	}
	// done closed midway: For returns false and stops soon.
	stop := make(chan struct{})
	var once sync.Once
	ran := atomic.Int64{}
	ok := par.For(int64(1)<<40, 3, 1, stop, func(int, int64, int64) bool {
		if ran.Add(1) == 50 {
			once.Do(func() { close(stop) })
		}
		return true
	})
	if ok || ran.Load() > 50+3 {
		t.Errorf("cancel midway: ok %v after %d chunks", ok, ran.Load())
	}
}

func ExampleFor() {
	sums := make([]int, 4) // one per worker: no locking
	par.For(100, 4, 10, nil, func(w, lo, hi int) bool {
		for i := lo; i < hi; i++ {
			sums[w] += i
		}
		return true
	})
	total := 0
	for _, s := range sums {
		total += s
	}
	fmt.Println(total)
	// Output: 4950
}

func ExampleSplit() {
	par.Split(10, 3, func(k, lo, hi int) {})
	for k := range 3 {
		fmt.Println(par.Bounds(10, 3, k))
	}
	// Output:
	// 0 3
	// 3 6
	// 6 10
}

func BenchmarkFor(b *testing.B) {
	x := make([]float64, 1<<20)
	for b.Loop() {
		par.For(len(x), 4, 1<<12, nil, func(_, lo, hi int) bool {
			for i := lo; i < hi; i++ {
				x[i] += 1
			}
			return true
		})
	}
}
