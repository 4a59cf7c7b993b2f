package partition

import (
	"context"
	"sync"
	"sync/atomic"
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
