// Package par is the engine's one goroutine fan-out: every parallel loop of
// gopkg and kernels runs through Run, Split or For, so that the rules below
// hold everywhere and are tested once.
//
//   - Every worker runs on a goroutine of its own while the caller waits
//     (as the fan-outs it replaced mostly did: on the 2-core machine, with
//     the caller as one of the workers the CSBM generator measured about
//     20% slower under load), and all goroutines have returned when a call
//     returns.
//   - workers <= 1 (or a single chunk) runs everything on the caller, in
//     order, with no goroutine at all.
//   - Split's chunk boundaries depend only on n and the number of parts,
//     so results computed per part are deterministic; For hands out chunks
//     in increasing order, so when it stops early every chunk below the
//     last one handed out has run to its end.
//   - For looks at done (typically ctx.Done()) before each chunk it hands
//     out: cancellation takes effect within one chunk per worker.
//
// A panic in fn is not recovered here: it ends the process like any
// goroutine's panic, so callers that must survive faults (arena checks)
// recover inside fn.
package par

import (
	"sync"
	"sync/atomic"
)

// Int is the integer type of ranges: int, or int64 for byte and row counts.
type Int interface{ ~int | ~int64 }

// Run calls fn(w) for every w in [0, workers), each on its own goroutine,
// and returns when all have returned. workers <= 1 calls fn(0) on the
// caller.
func Run(workers int, fn func(w int)) {
	if workers <= 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w) })
	}
	wg.Wait()
}

// Bounds returns part k of parts contiguous, nearly equal parts of [0, n):
// [n·k/parts, n·(k+1)/parts). It depends only on n, parts and k.
func Bounds[T Int](n T, parts, k int) (lo, hi T) {
	return T(int64(n) * int64(k) / int64(parts)), T(int64(n) * int64(k+1) / int64(parts))
}

// Split calls fn(k, lo, hi) for every part k in [0, parts) of [0, n) (see
// Bounds), each on its own goroutine (see Run), and returns when all have
// returned. parts < 1 counts as 1.
func Split[T Int](n T, parts int, fn func(k int, lo, hi T)) {
	parts = max(parts, 1)
	Run(parts, func(k int) {
		lo, hi := Bounds(n, parts, k)
		fn(k, lo, hi)
	})
}

// For covers [0, n) with chunks of size chunk (the last may be shorter)
// that up to workers goroutines claim one at a time in increasing order, calling fn(w, lo, hi) with w in [0, workers)
// identifying the worker (for per-worker scratch space). It stops handing
// out chunks once done is closed (nil: never) or a call of fn returns
// false, lets the chunks already handed out finish, and reports whether
// every chunk ran and returned true. chunk < 1 counts as 1; workers is
// capped at the number of chunks.
func For[T Int](n T, workers int, chunk T, done <-chan struct{}, fn func(w int, lo, hi T) bool) bool {
	chunk = max(chunk, 1)
	if n <= 0 {
		return true
	}
	chunks := (int64(n) + int64(chunk) - 1) / int64(chunk)
	workers = int(min(int64(max(workers, 1)), chunks))
	if workers == 1 {
		for lo := T(0); lo < n; lo += chunk {
			if Stopped(done) || !fn(0, lo, min(lo+chunk, n)) {
				return false
			}
		}
		return true
	}
	var next atomic.Int64
	var stopped atomic.Bool
	Run(workers, func(w int) {
		for !stopped.Load() {
			if Stopped(done) {
				stopped.Store(true)
				return
			}
			lo := T(next.Add(int64(chunk)) - int64(chunk))
			if lo >= n {
				return
			}
			if !fn(w, lo, min(lo+chunk, n)) {
				stopped.Store(true)
				return
			}
		}
	})
	return !stopped.Load()
}

// Stopped reports whether done is closed; a nil done never is. Loops that
// look at a stop channel between steps use it too.
func Stopped(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}
