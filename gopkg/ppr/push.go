package ppr

import (
	"math"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// pushGraph holds the read-only per-call arrays that every worker shares.
type pushGraph struct {
	indptr  []int64
	indices []int32
	// thresh[u] is eps·deg(u), or the smallest positive float64 when u has
	// no out-edges, so that "r[u] ≥ thresh[u]" reads "r[u] > 0" there.
	thresh []float64
	// scale[u] is (1−alpha)/deg(u), or 0 when u has no out-edges.
	scale []float64
	alpha float64
	// lifo pops the most recently queued node first (PyG's order) instead
	// of the oldest.
	lifo bool
}

// newPushGraph precomputes the thresholds and push factors of g.
func newPushGraph(g *graph.CSR, alpha, eps float64, order Order) *pushGraph {
	n := g.NumNodes
	pg := &pushGraph{
		indptr:  g.Indptr,
		indices: g.Indices,
		thresh:  make([]float64, n),
		scale:   make([]float64, n),
		alpha:   alpha,
		lifo:    order == OrderLIFO,
	}
	indptr := g.Indptr[:n+1]
	thresh, scale := pg.thresh[:n], pg.scale[:n]
	for u := range n {
		d := float64(indptr[u+1] - indptr[u])
		if d == 0 {
			thresh[u] = math.SmallestNonzeroFloat64
			continue
		}
		thresh[u] = eps * d
		scale[u] = (1 - alpha) / d
	}
	return pg
}

// workspace is the private state of one worker, reused for every vector it
// computes. Between vectors p and every nd[v].r are +0 and nt is 0.
type workspace struct {
	p []float64
	// nd[v] holds the residual of v next to its threshold, copied from
	// the shared pushGraph.thresh, so that a neighbour update touches one
	// cache line.
	nd []node
	// touched[:nt] lists the nodes whose residual became nonzero since
	// the last reset, each once: nd[v].r holds +0 exactly while v is
	// untouched, and a pushed node gets the residual −0, which compares and
	// adds like +0 but has a different bit pattern. touched has room for
	// every node and one more slot.
	touched []int32
	nt      int
	// pushed lists the nodes pushed since the last reset, the only ones
	// with a nonzero p. A node is listed when its p is still zero before
	// the push, so a push whose alpha·r underflows could list it twice.
	pushed []int32
	// queue is a ring buffer whose length is a power of two.
	queue []int32
	cand  []entry

	pushes, edgePushes int64
	// nextCheck is the value of pushes+edgePushes at which push next
	// looks at its cancellation channel; it carries over from vector to
	// vector, so that many small vectors are checked as often as one
	// large one.
	nextCheck int64

	// release frees the arrays above; the workspace is unusable after it.
	release func()
}

// node is the per-worker state of one node.
type node struct {
	r, t float64
}

// newWorkspace allocates the state of one worker for pg.
func newWorkspace(pg *pushGraph) *workspace {
	n := len(pg.thresh)
	nd, freeNd := hugeAlloc[node](n)
	for v, t := range pg.thresh {
		nd[v].t = t
	}
	p, freeP := hugeAlloc[float64](n)
	touched, freeTouched := hugeAlloc[int32](n + 1)
	return &workspace{
		p:       p,
		nd:      nd,
		touched: touched,
		pushed:  make([]int32, 0, 256),
		queue:   make([]int32, 1024),
		release: func() { freeNd(); freeP(); freeTouched() },
	}
}

// negZero is −0.0, the residual of a touched node after it was pushed.
var negZero = math.Copysign(0, -1)

// push computes the estimate p̂ of the PPR vector whose teleport
// distribution is uniform over the distinct nodes of set, which must be
// non-empty and in range. On return ws.p holds the estimate, ws.pushed
// lists its nonzero entries and ws.touched[:ws.nt] the nonzero residuals;
// collect must be called before the next push.
//
// After every checkWork pushes and neighbour updates of the worker (counted
// across its vectors) it looks at done (nil: never) and, once done is
// closed, returns false at once, leaving the workspace unusable: the caller
// drops it. Otherwise it returns true.
func (ws *workspace) push(pg *pushGraph, set []int64, done <-chan struct{}) bool {
	p, nd := ws.p, ws.nd
	indptr, indices := pg.indptr, pg.indices
	scale := pg.scale
	alpha := pg.alpha
	q := ws.queue
	mask := uint(len(q) - 1)
	var head, tail uint
	touched := ws.touched
	nt := 0
	pushed := ws.pushed[:0]

	// Teleport nodes: mark each distinct one with a provisional residual
	// of 1 and queue it, then give all of them the uniform share.
	for _, s := range set {
		if math.Float64bits(nd[s].r) != 0 {
			continue
		}
		nd[s].r = 1
		touched[nt] = int32(s)
		nt++
		if tail-head == uint(len(q)) {
			q = ws.growQueue(head, tail)
			mask, head, tail = uint(len(q)-1), 0, tail-head
		}
		q[tail&mask] = int32(s)
		tail++
	}
	initial := tail
	share := 1 / float64(nt)
	for _, s := range touched[:nt] {
		nd[s].r = share
	}

	var pushes, edgePushes int64
	// Local counts of this vector's work, and the point at which to look
	// at done next, in the same units.
	nextCheck := ws.nextCheck - ws.pushes - ws.edgePushes
	lifo := pg.lifo
	for head != tail {
		// pos is the queue position of the entry taken: the oldest (FIFO)
		// or the newest (LIFO). In LIFO order head stays 0.
		var pos uint
		if lifo {
			tail--
			pos = tail
		} else {
			pos = head
			head++
		}
		u := q[pos&mask]
		nu := &nd[u]
		res := nu.r
		// Stale entries (possible only for teleport nodes, which are
		// queued once unconditionally) are skipped; the initial entries
		// (positions below initial) are pushed whatever their residual.
		// In LIFO order a later entry can reuse such a position, but
		// every non-initial entry is above its threshold when taken, so
		// it is pushed either way.
		if res == 0 || (pos >= initial && res < nu.t) {
			continue
		}
		nu.r = negZero
		if p[u] == 0 {
			pushed = append(pushed, u)
		}
		p[u] += alpha * res
		pushes++
		if pushes+edgePushes >= nextCheck {
			nextCheck += checkWork
			if done != nil && isDone(done) {
				ws.pushes += pushes
				ws.edgePushes += edgePushes
				return false
			}
		}
		lo, hi := indptr[u], indptr[u+1]
		val := res * scale[u]
		// val is 0 for a node without out-edges, and also if it
		// underflows, when adding it would change nothing: skipping
		// keeps +0 residuals meaning "untouched".
		if val == 0 {
			continue
		}
		nbrs := indices[lo:hi]
		edgePushes += int64(len(nbrs))
		for uint(len(q))-(tail-head) < uint(len(nbrs)) {
			q = ws.growQueue(head, tail)
			mask, initial, tail, head = uint(len(q)-1), initial-min(initial, head), tail-head, 0
		}
		nt, tail = scatter(nd, nbrs, val, touched, nt, q, mask, tail)
	}
	ws.nt = nt
	ws.pushed = pushed
	ws.pushes += pushes
	ws.edgePushes += edgePushes
	ws.nextCheck = ws.pushes + ws.edgePushes + max(nextCheck-pushes-edgePushes, 0)
	return true
}

// checkWork is how much work (pushes plus neighbour updates) a worker does
// between two looks at its cancellation channel: well under a millisecond
// when the graph fits in the caches, a few milliseconds when every update
// misses them, while the checks cost nothing measurable.
const checkWork = 1 << 16

// isDone reports whether done is closed, without blocking.
func isDone(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// scatter adds val to the residual of every node of nbrs, appends the
// nodes touched for the first time to touched[:nt], and queues at q[tail]
// onwards (modulo mask+1) the nodes whose residual crosses its threshold.
// The queue must have room for len(nbrs) more entries. It returns the new nt
// and tail. It is the innermost loop of the push, kept free of calls so that
// its state stays in registers.
func scatter(nd []node, nbrs []int32, val float64, touched []int32, nt int, q []int32, mask, tail uint) (int, uint) {
	for _, v := range nbrs {
		nv := &nd[v]
		old := nv.r
		// Branch-free append: v is written past the end of the list and
		// kept only if it is new. nt < len(touched) since the listed
		// nodes are distinct and touched has a spare slot.
		touched[nt] = v
		if math.Float64bits(old) == 0 {
			nt++
		}
		nw := old + val
		nv.r = nw
		if t := nv.t; old < t && nw >= t {
			q[tail&mask] = v
			tail++
		}
	}
	return nt, tail
}

// growQueue doubles the ring buffer, moving the entries q[head:tail] (taken
// modulo the length) to the front of the new buffer.
func (ws *workspace) growQueue(head, tail uint) []int32 {
	old := ws.queue
	mask := uint(len(old) - 1)
	q := make([]int32, 2*len(old))
	for i := head; i != tail; i++ {
		q[i-head] = old[i&mask]
	}
	ws.queue = q
	return q
}
