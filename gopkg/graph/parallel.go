package graph

import "github.com/ibmb-dev/ibmb/internal/par"

// chunk returns the bounds of the i-th of k contiguous, nearly equal parts of
// [0, n). The split depends only on n and k.
func chunk(n, k, i int) (lo, hi int) { return par.Bounds(n, k, i) }

// parallelChunks splits [0, n) into workers contiguous chunks (see chunk) and
// calls fn(w, lo, hi) for chunk w in parallel (par.Split), returning once
// all calls have returned. With a single worker fn runs on the calling
// goroutine.
func parallelChunks(n, workers int, fn func(w, lo, hi int)) { par.Split(n, workers, fn) }

// parallelTasks calls fn(i) for every i in [0, tasks) using up to workers
// goroutines that claim tasks one at a time (par.For), which balances uneven
// task sizes. It returns once all calls have returned.
func parallelTasks(tasks, workers int, fn func(i int)) {
	par.For(tasks, workers, 1, nil, func(_, i, _ int) bool { fn(i); return true })
}
