package batch

import (
	"context"
	"fmt"
	"slices"

	"github.com/ibmb-dev/ibmb/internal/par"
)

// Cancellation. NodeWiseContext and BatchWiseContext pass their context's
// Done channel ("stop", nil when it can never be cancelled) to every loop
// that may run for long; the helpers here look at it after a bounded amount
// of work and report false once it is closed. The caller then returns
// canceled(ctx) and drops whatever was computed.

// isDone reports whether stop is closed, without blocking.
func isDone(stop <-chan struct{}) bool { return par.Stopped(stop) }

// canceled is the error of a call stopped because ctx was cancelled.
func canceled(ctx context.Context) error {
	return fmt.Errorf("batch: %w", ctx.Err())
}

// checkEvery is how many cheap loop steps (a union-find merge, a pair, a
// moved element) run between two looks at stop: well under a millisecond.
const checkEvery = 1 << 16

// parallelForStop is parallelFor that stops handing out tasks once stop is
// closed (par.For looks before every chunk of 16 tasks) and reports whether
// all n tasks ran. All its goroutines have returned when it returns.
func parallelForStop(n, workers int, stop <-chan struct{}, fn func(w, i int)) bool {
	return par.For(n, numWorkers(workers, n), 16, stop, func(w, lo, hi int) bool {
		for i := lo; i < hi; i++ {
			fn(w, i)
		}
		return true
	})
}

// sortRun is the length of the runs that sortStop sorts with
// slices.SortFunc before merging them.
const sortRun = 1 << 14

// sortStop sorts s by cmp like slices.SortFunc, but in a way that can stop:
// runs of sortRun elements are sorted on workers goroutines, then merged
// pairwise in passes, looking at stop between runs and every checkEvery
// merged elements. It reports false, leaving s in some permutation, once
// stop is closed. Elements that cmp finds equal may end up in a different
// order than slices.SortFunc would leave them (callers only sort by total
// orders, or combine equal elements order-independently).
func sortStop[T any](s []T, cmp func(a, b T) int, workers int, stop <-chan struct{}) bool {
	n := len(s)
	if n <= 2*sortRun || stop == nil {
		slices.SortFunc(s, cmp)
		return !isDone(stop)
	}
	runs := (n + sortRun - 1) / sortRun
	if !parallelForStop(runs, workers, stop, func(_, r int) {
		slices.SortFunc(s[r*sortRun:min((r+1)*sortRun, n)], cmp)
	}) {
		return false
	}
	src, dst := s, make([]T, n)
	for width := sortRun; width < n; width *= 2 {
		pairs := (n + 2*width - 1) / (2 * width)
		if !parallelForStop(pairs, workers, stop, func(_, p int) {
			lo := p * 2 * width
			mid, hi := min(lo+width, n), min(lo+2*width, n)
			mergeStop(dst[lo:hi], src[lo:mid], src[mid:hi], cmp, stop)
		}) || isDone(stop) {
			return false
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
	return true
}

// mergeStop merges the sorted a and b into out (len(a)+len(b) long), taking
// from a on ties. It gives up, leaving out incomplete, once stop is closed;
// the caller finds out by looking at stop itself.
func mergeStop[T any](out, a, b []T, cmp func(x, y T) int, stop <-chan struct{}) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if k%checkEvery == 0 && isDone(stop) {
			return
		}
		if cmp(b[j], a[i]) < 0 {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
}
