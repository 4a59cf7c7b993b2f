package partition

// stopper lets the partitioner's loops notice that the caller's context was
// cancelled. Its zero value never stops. Once stopped reports true it keeps
// doing so; a function that sees it returns at once with a partial result
// that its caller discards (every caller checks stopped after the call
// before using the result).
type stopper struct {
	done <-chan struct{}
}

// stopped reports whether the context is done, without blocking.
func (s stopper) stopped() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// checkWork is the work, counted in edges scanned or similar steps, that a
// loop does between two looks at the context: well under a millisecond.
// Counting work rather than iterations matters on coarse levels, where a
// node can have thousands of neighbours.
const checkWork = 1 << 16

// ticker counts the work of a loop and looks at the context once checkWork
// units have accumulated. Each goroutine uses its own.
type ticker struct {
	stop stopper
	work int64
}

// spend adds cost units of work without looking at the context.
func (t *ticker) spend(cost int64) { t.work += cost }

// add adds cost+1 units of work (the iteration itself counts one) and
// reports whether the loop should stop: it looks at the context only when
// checkWork units have accumulated since the last look.
func (t *ticker) add(cost int64) bool {
	t.work += cost + 1
	if t.work < checkWork {
		return false
	}
	t.work = 0
	return t.stop.stopped()
}

// popCost is the work counted for one priority-queue pop or push: the
// queues keep stale entries and grow to millions of entries, whose pops
// miss the caches at every level. (With these weights the longest stretch
// between two looks measured 40 ms of CPU time while partitioning a
// 100k-node CSBM graph into 98 parts; most are under 10 ms.)
const popCost = 64
