package ppr

import (
	"sync/atomic"

	"github.com/ibmb-dev/ibmb/internal/par"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// teleports describes the teleport set of every task: task i teleports to
// nodes[ptr[i]:ptr[i+1]], or to nodes[i:i+1] alone when ptr is nil.
type teleports struct {
	ptr   []int64
	nodes []int64
}

func (t *teleports) len() int {
	if t.ptr == nil {
		return len(t.nodes)
	}
	return len(t.ptr) - 1
}

func (t *teleports) set(i int) []int64 {
	if t.ptr == nil {
		return t.nodes[i : i+1 : i+1]
	}
	return t.nodes[t.ptr[i]:t.ptr[i+1]]
}

// rowLoc records where a worker stored a row in its private buffers.
type rowLoc struct {
	off    int64
	worker int32
}

// workerOut is the private output of one worker.
type workerOut struct {
	nodes  []int32
	scores []float32
}

// compute runs the push for every task of t on g, which must be valid with
// t in range, and assembles the Result. opt must have been validated. Once
// stop (nil: never) is closed, every worker stops within about a
// millisecond and compute returns ok == false with a nil Result, after all
// its goroutines have exited.
func compute(g *graph.CSR, t teleports, opt Options, stop <-chan struct{}) (res *Result, st Stats, ok bool) {
	tasks := t.len()
	workers := opt.numWorkers(tasks)
	var rl *relabeling
	if g.NumNodes >= relabelMinNodes && tasks >= relabelMinTasks && !opt.noRelabel {
		rl = relabelByDegree(g, workers, stop)
		if rl == nil {
			return nil, Stats{}, false
		}
		g = rl.g
		rl.orderTasks(t)
	}
	pg := newPushGraph(g, opt.Alpha, opt.Eps, opt.Order)

	// Row lengths go to indptr[i+1] and are turned into offsets later;
	// every element is written by exactly one worker.
	indptr := make([]int64, tasks+1)
	locs := make([]rowLoc, tasks)
	outs := make([]workerOut, workers)
	stats := make([]Stats, workers)

	chunk := max(1, min(32, tasks/(8*workers)))
	var next, done atomic.Int64
	step := int64(max(1, (tasks+99)/100))
	var tick chan struct{}
	if opt.Progress != nil {
		tick = make(chan struct{}, 1)
	}

	var stopped atomic.Bool
	work := func(w int) {
		ws := newWorkspace(pg)
		defer ws.release()
		out := &outs[w]
		var setBuf []int64
		for {
			if stop != nil && isDone(stop) {
				stopped.Store(true)
				return
			}
			lo := int(next.Add(int64(chunk)) - int64(chunk))
			if lo >= tasks {
				break
			}
			hi := min(lo+chunk, tasks)
			for k := lo; k < hi; k++ {
				if k > lo && stop != nil && isDone(stop) {
					stopped.Store(true)
					return
				}
				i := k
				if rl != nil {
					i = int(rl.taskOrder[k])
				}
				set := t.set(i)
				if rl != nil {
					setBuf = rl.mapSet(set, setBuf)
					set = setBuf
				}
				if !ws.push(pg, set, stop) {
					stopped.Store(true)
					return
				}
				ws.collect()
				if rl != nil {
					rl.restore(ws.cand)
				}
				row := selectTop(ws.cand, opt.TopK)
				locs[i] = rowLoc{off: int64(len(out.nodes)), worker: int32(w)}
				indptr[i+1] = int64(len(row))
				for _, e := range row {
					out.nodes = append(out.nodes, e.node)
					out.scores = append(out.scores, e.score)
				}
			}
			if tick != nil {
				n := int64(hi - lo)
				if d := done.Add(n); (d-n)/step != d/step {
					select {
					case tick <- struct{}{}:
					default:
					}
				}
			}
		}
		stats[w] = Stats{Pushes: ws.pushes, EdgePushes: ws.edgePushes}
	}

	if tick == nil {
		parallel(workers, work)
	} else {
		finished := make(chan struct{})
		go func() {
			parallel(workers, work)
			close(finished)
		}()
		last := int64(0)
		report := func() {
			if d := done.Load(); d > last {
				last = d
				opt.Progress(int(d), tasks)
			}
		}
	wait:
		for {
			select {
			case <-tick:
				report()
			case <-finished:
				break wait
			}
		}
		report()
	}
	if stopped.Load() {
		return nil, Stats{}, false
	}

	for i := range tasks {
		indptr[i+1] += indptr[i]
	}
	total := indptr[tasks]
	res = &Result{Indptr: indptr}
	if workers == 1 {
		// A single worker claimed the chunks in order: its buffers
		// already hold the rows in target order.
		res.Nodes = outs[0].nodes[:total:total]
		res.Scores = outs[0].scores[:total:total]
	} else {
		res.Nodes = make([]int32, total)
		res.Scores = make([]float32, total)
		copyRows := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				a, b := indptr[i], indptr[i+1]
				src := &outs[locs[i].worker]
				off := locs[i].off
				copy(res.Nodes[a:b], src.nodes[off:off+b-a])
				copy(res.Scores[a:b], src.scores[off:off+b-a])
			}
		}
		if total < 1<<16 {
			copyRows(0, tasks)
		} else {
			parallel(workers, func(w int) {
				copyRows(w*tasks/workers, (w+1)*tasks/workers)
			})
		}
	}

	for _, s := range stats {
		st.Pushes += s.Pushes
		st.EdgePushes += s.EdgePushes
	}
	return res, st, true
}

// parallel calls fn(w) for w in [0, workers), each on its own goroutine
// except the last, which runs on the caller, and returns when all are done.
func parallel(workers int, fn func(w int)) {
	par.Run(workers, fn)
}
