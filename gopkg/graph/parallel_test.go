package graph

import (
	"sync"
	"testing"
)

func TestChunkCoversRange(t *testing.T) {
	tests := []struct{ n, k int }{
		{0, 1}, {0, 4}, {1, 4}, {3, 4}, {10, 3}, {1000, 7}, {1 << 20, 16},
	}
	for _, tc := range tests {
		prev := 0
		for i := 0; i < tc.k; i++ {
			lo, hi := chunk(tc.n, tc.k, i)
			if lo != prev || hi < lo {
				t.Fatalf("chunk(%d, %d, %d) = [%d, %d), want start %d", tc.n, tc.k, i, lo, hi, prev)
			}
			// Parts differ in size by at most one.
			if sz := hi - lo; sz < tc.n/tc.k || sz > tc.n/tc.k+1 {
				t.Errorf("chunk(%d, %d, %d) has size %d", tc.n, tc.k, i, sz)
			}
			prev = hi
		}
		if prev != tc.n {
			t.Errorf("chunks of (%d, %d) end at %d, want %d", tc.n, tc.k, prev, tc.n)
		}
	}
}

func TestParallelChunks(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		const n = 1001
		seen := make([]int, n)
		parallelChunks(n, workers, func(w, lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i]++ // chunks are disjoint, so no race
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("workers=%d: index %d visited %d times", workers, i, c)
			}
		}
	}
}

func TestParallelTasks(t *testing.T) {
	for _, tc := range []struct{ tasks, workers int }{{0, 4}, {1, 4}, {5, 1}, {100, 3}, {3, 100}} {
		var mu sync.Mutex
		seen := make(map[int]int)
		parallelTasks(tc.tasks, tc.workers, func(i int) {
			mu.Lock()
			seen[i]++
			mu.Unlock()
		})
		if len(seen) != tc.tasks {
			t.Fatalf("%+v: %d distinct tasks ran, want %d", tc, len(seen), tc.tasks)
		}
		for i, c := range seen {
			if c != 1 || i < 0 || i >= tc.tasks {
				t.Fatalf("%+v: task %d ran %d times", tc, i, c)
			}
		}
	}
}
