package graph

import (
	"sync"
	"sync/atomic"
)

// chunk returns the bounds of the i-th of k contiguous, nearly equal parts of
// [0, n). The split depends only on n and k.
func chunk(n, k, i int) (lo, hi int) {
	lo = int(int64(n) * int64(i) / int64(k))
	hi = int(int64(n) * int64(i+1) / int64(k))
	return lo, hi
}

// parallelChunks splits [0, n) into workers contiguous chunks (see chunk) and
// calls fn(w, lo, hi) for chunk w, each in its own goroutine, returning once
// all calls have returned. With a single worker fn runs on the calling
// goroutine.
func parallelChunks(n, workers int, fn func(w, lo, hi int)) {
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := chunk(n, workers, w)
		wg.Go(func() { fn(w, lo, hi) })
	}
	wg.Wait()
}

// parallelTasks calls fn(i) for every i in [0, tasks) using up to workers
// goroutines that claim tasks one at a time, which balances uneven task
// sizes. It returns once all calls have returned.
func parallelTasks(tasks, workers int, fn func(i int)) {
	if workers > tasks {
		workers = tasks
	}
	if workers <= 1 {
		for i := range tasks {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= tasks {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
