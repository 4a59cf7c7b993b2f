package partition

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool runs the loops of the deep multilevel partitioner on up to workers
// goroutines and stops them when ctx is cancelled.
//
// Work is always cut into the same chunks whatever the number of workers,
// and every chunk writes only state it owns, so results never depend on the
// number of workers or on scheduling.
type pool struct {
	ctx     context.Context
	workers int
}

// cancelled reports ctx's error if it is done, without blocking.
func (p *pool) cancelled() error {
	select {
	case <-p.ctx.Done():
		return p.ctx.Err()
	default:
		return nil
	}
}

// stopper returns a stopper watching p's context, for the loops shared
// with the heavy-edge scheme.
func (p *pool) stopper() stopper { return stopper{done: p.ctx.Done()} }

// forChunks calls fn(w, lo, hi) for every chunk [lo, hi) of [0, n) of size
// chunk (the last one shorter). w in [0, p.workers) names the goroutine, for
// per-goroutine scratch space. Chunks are claimed in increasing order by
// the next free goroutine. ctx is checked before every chunk; if it is
// cancelled the remaining chunks are skipped and its error returned.
func (p *pool) forChunks(n, chunk int, fn func(w, lo, hi int)) error {
	if n <= 0 {
		return p.cancelled()
	}
	chunks := (n + chunk - 1) / chunk
	workers := min(p.workers, chunks)
	if workers <= 1 {
		for c := 0; c < chunks; c++ {
			if err := p.cancelled(); err != nil {
				return err
			}
			fn(0, c*chunk, min(n, (c+1)*chunk))
		}
		return nil
	}
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				if p.cancelled() != nil {
					stop.Store(true)
					return
				}
				fn(w, c*chunk, min(n, (c+1)*chunk))
			}
		}()
	}
	wg.Wait()
	return p.cancelled()
}

// minParallelWork is the least work (adjacency entries to scan) for which
// a loop is spread over several goroutines: below it, starting goroutines
// and waiting for the slowest costs more than it saves (on a loaded machine
// far more). Results never depend on it; it is a variable so that tests can
// force the parallel paths on small graphs.
var minParallelWork int64 = 1 << 16

// forChunksWork is forChunks for a loop whose total work is about work
// adjacency entries: below minParallelWork it runs on the calling
// goroutine.
func (p *pool) forChunksWork(n, chunk int, work int64, fn func(w, lo, hi int)) error {
	if work < minParallelWork && p.workers > 1 {
		seq := pool{ctx: p.ctx, workers: 1}
		return seq.forChunks(n, chunk, fn)
	}
	return p.forChunks(n, chunk, fn)
}

// forTasks calls fn(w, i) for every i in [0, tasks), like forChunks with
// chunks of one.
func (p *pool) forTasks(tasks int, fn func(w, i int)) error {
	return p.forChunks(tasks, 1, func(w, lo, _ int) { fn(w, lo) })
}

// teamMinWork is the least number of adjacency entries of a graph for
// which lpCluster keeps a spinTeam while it runs; a variable so that tests
// can use the team on small graphs.
var teamMinWork = 1 << 17

// spinTeam runs many small parallel loops in a row on goroutines that stay
// alive between them and wait by spinning (yielding the processor, then
// sleeping briefly, when a wait grows long), so that handing out a loop
// takes far less than waking parked goroutines would. lpCluster uses it for
// sub-rounds whose work is too small for forChunks. The calling goroutine
// is worker 0 of every loop; helpers are workers 1 … workers-1. As with
// forChunks, the chunks are fixed by n and chunk alone, so results do not
// depend on which goroutine runs which chunk.
type spinTeam struct {
	p       *pool
	helpers int
	epoch   atomic.Uint64 // incremented to start a loop (or to stop)
	done    atomic.Int64  // helpers finished with the current loop
	next    atomic.Int64  // next chunk to claim
	quit    atomic.Bool
	n       int
	chunk   int
	fn      func(w, lo, hi int)
	wg      sync.WaitGroup
}

// Spinning: a waiting goroutine checks this many times before it starts
// to yield, and yields this many times before it sleeps between checks.
const (
	teamSpins  = 1 << 12
	teamYields = 1 << 10
)

// newSpinTeam starts p.workers-1 helper goroutines; stop must be called.
func newSpinTeam(p *pool) *spinTeam {
	t := &spinTeam{p: p, helpers: p.workers - 1}
	t.wg.Add(t.helpers)
	for w := 1; w <= t.helpers; w++ {
		go t.helper(w)
	}
	return t
}

// wait spins until cond holds, then yields, then sleeps between checks.
func wait(cond func() bool) {
	for i := 0; !cond(); i++ {
		switch {
		case i < teamSpins:
		case i < teamSpins+teamYields:
			runtime.Gosched()
		default:
			time.Sleep(20 * time.Microsecond)
		}
	}
}

func (t *spinTeam) helper(w int) {
	defer t.wg.Done()
	seen := uint64(0)
	for {
		wait(func() bool { return t.epoch.Load() != seen })
		seen++
		if t.quit.Load() {
			return
		}
		t.work(w)
		t.done.Add(1)
	}
}

// work claims and runs chunks of the current loop until none is left or
// the context is cancelled.
func (t *spinTeam) work(w int) {
	chunks := (t.n + t.chunk - 1) / t.chunk
	for {
		c := int(t.next.Add(1) - 1)
		if c >= chunks || t.p.cancelled() != nil {
			return
		}
		t.fn(w, c*t.chunk, min(t.n, (c+1)*t.chunk))
	}
}

// run is forChunks(n, chunk, fn) on the team: it returns once every chunk
// has run (or the context is cancelled, with its error).
func (t *spinTeam) run(n, chunk int, fn func(w, lo, hi int)) error {
	t.n, t.chunk, t.fn = n, chunk, fn
	t.next.Store(0)
	t.done.Store(0)
	t.epoch.Add(1) // publishes the loop to the helpers
	t.work(0)
	wait(func() bool { return t.done.Load() == int64(t.helpers) })
	return t.p.cancelled()
}

// stop ends the helpers and waits for them.
func (t *spinTeam) stop() {
	t.quit.Store(true)
	t.epoch.Add(1)
	t.wg.Wait()
}
