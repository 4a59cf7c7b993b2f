package partition

import "math/rand/v2"

// item is a priority-queue entry: node with its best move gain; ver detects
// stale entries and tie breaks equal gains randomly but deterministically.
type item struct {
	gain float64
	tie  uint32
	ver  uint32
	node int32
}

// pq is a binary max-heap of items.
type pq []item

func (h pq) less(i, j int) bool {
	if h[i].gain != h[j].gain {
		return h[i].gain > h[j].gain
	}
	return h[i].tie < h[j].tie
}

func (h *pq) push(it item) {
	*h = append(*h, it)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *pq) pop() item {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// refiner holds the state and scratch space for refining a k-way partition
// of one graph. It is not safe for concurrent use.
type refiner struct {
	g       *wgraph
	part    []int32
	k       int
	pw      []int64
	pn      []int32 // node count of every part
	maxW    []int64
	minW    []int64 // lower weight bound for sources of moves, or nil
	conn    []float64
	touched []int32
	ver     []uint32
	locked  []uint32
	stamp   uint32
	est     []float64 // last computed best-move gain (−Inf: none)
	heap    pq
	rng     *rand.Rand
	tk      ticker

	// Per-node part-connectivity cache, valid while cached is set: node u
	// owns the slots cstart[u] … cstart[u]+cn[u]-1, each naming a part
	// cpart adjacent to u (its own part included), the total weight cw of
	// u's edges into it and their number cc (an entry goes when cc hits 0,
	// so float rounding never leaves ghosts). Capacity per node is
	// min(degree, k).
	cached bool
	cstart []int64
	cn     []int32
	cpart  []int32
	cw     []float64
	cc     []int32
}

// buildCache fills the part-connectivity cache from scratch.
func (r *refiner) buildCache() {
	g := r.g
	if r.cstart == nil {
		r.cstart = make([]int64, g.n+1)
		r.cn = make([]int32, g.n)
		for u := 0; u < g.n; u++ {
			r.cstart[u+1] = r.cstart[u] + min(g.xadj[u+1]-g.xadj[u], int64(r.k))
		}
		m := r.cstart[g.n]
		r.cpart = make([]int32, m)
		r.cw = make([]float64, m)
		r.cc = make([]int32, m)
	}
	for u := 0; u < g.n; u++ {
		if r.tk.add(g.xadj[u+1] - g.xadj[u]) {
			return
		}
		base := r.cstart[u]
		c := int32(0)
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			pv := r.part[g.adj[p]]
			i := base
			for ; i < base+int64(c) && r.cpart[i] != pv; i++ {
			}
			if i == base+int64(c) {
				r.cpart[i], r.cw[i], r.cc[i] = pv, 0, 0
				c++
			}
			r.cw[i] += g.ew[p]
			r.cc[i]++
		}
		r.cn[u] = c
	}
	r.cached = true
}

// cacheShift moves one edge of weight w of v from part a to part b in a
// single scan of v's entries.
func (r *refiner) cacheShift(v int, a, b int32, w float64) {
	base := r.cstart[v]
	end := base + int64(r.cn[v])
	ia, ib := int64(-1), int64(-1)
	for i := base; i < end; i++ {
		if c := r.cpart[i]; c == a {
			ia = i
			if ib >= 0 {
				break
			}
		} else if c == b {
			ib = i
			if ia >= 0 {
				break
			}
		}
	}
	if ib < 0 && r.cc[ia] == 1 {
		// The only edge to a becomes the only edge to b.
		r.cpart[ia], r.cw[ia] = b, w
		return
	}
	if ib >= 0 {
		r.cw[ib] += w
		r.cc[ib]++
	} else {
		r.cpart[end], r.cw[end], r.cc[end] = b, w, 1
		r.cn[v]++
		end++
	}
	r.cw[ia] -= w
	r.cc[ia]--
	if r.cc[ia] == 0 {
		last := end - 1
		r.cpart[ia], r.cw[ia], r.cc[ia] = r.cpart[last], r.cw[last], r.cc[last]
		r.cn[v]--
	}
}

// requeueIfStale requeues popped item it with gn, the current gain of its
// node's best move, when gn has fallen below the gain it was queued with
// (so that cheaper moves elsewhere go first), and reports whether it did.
func (r *refiner) requeueIfStale(it item, gn float64) bool {
	if gn >= it.gain {
		return false
	}
	r.ver[it.node]++
	r.heap.push(item{gain: gn, tie: it.tie, ver: r.ver[it.node], node: it.node})
	return true
}

// cachedMove is bestMove computed from the cache.
func (r *refiner) cachedMove(u int) (int32, float64) {
	a := r.part[u]
	base, end := r.cstart[u], r.cstart[u]+int64(r.cn[u])
	if end-base == 0 || (end-base == 1 && r.cpart[base] == a) || !r.canLeave(u) {
		return -1, negInf
	}
	w := r.g.vw[u]
	internal := 0.0
	for i := base; i < end; i++ {
		if r.cpart[i] == a {
			internal = r.cw[i]
			break
		}
	}
	best, bg := int32(-1), negInf
	for i := base; i < end; i++ {
		b := r.cpart[i]
		if b == a || r.pw[b]+w > r.maxW[b] {
			continue
		}
		gn := r.cw[i] - internal
		if gn > bg || (gn == bg && r.pw[b] < r.pw[best]) {
			best, bg = b, gn
		}
	}
	return best, bg
}

func newRefiner(g *wgraph, part []int32, k int, maxW []int64, rng *rand.Rand, stop stopper) *refiner {
	r := &refiner{g: g, part: part, k: k, maxW: maxW, rng: rng, tk: ticker{stop: stop},
		pw: make([]int64, k), pn: make([]int32, k), conn: make([]float64, k),
		ver: make([]uint32, g.n), locked: make([]uint32, g.n), est: make([]float64, g.n)}
	for u, p := range part {
		r.pw[p] += g.vw[u]
		r.pn[p]++
	}
	return r
}

// gather accumulates the connectivity of u to every neighbouring part into
// r.conn, listing the parts in r.touched. The caller must call release.
func (r *refiner) gather(u int) {
	g := r.g
	r.touched = r.touched[:0]
	for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
		pv := r.part[g.adj[p]]
		if r.conn[pv] == 0 {
			r.touched = append(r.touched, pv)
		}
		r.conn[pv] += g.ew[p]
	}
}

func (r *refiner) release() {
	for _, b := range r.touched {
		r.conn[b] = 0
	}
}

// canLeave reports whether u may leave its part: the last node of a part
// never moves (so refinement never empties a part), and with a floor set
// the part must keep at least its floor weight.
func (r *refiner) canLeave(u int) bool {
	a := r.part[u]
	if r.pn[a] <= 1 {
		return false
	}
	return r.minW == nil || r.pw[a]-r.g.vw[u] >= r.minW[a]
}

// bestMove returns the admissible neighbouring part with the largest gain
// for u, or -1. See canLeave for when u may not move at all.
func (r *refiner) bestMove(u int) (int32, float64) {
	if !r.canLeave(u) {
		return -1, negInf
	}
	r.gather(u)
	a := r.part[u]
	w := r.g.vw[u]
	internal := r.conn[a]
	best, bg := int32(-1), negInf
	for _, b := range r.touched {
		if b == a || r.pw[b]+w > r.maxW[b] {
			continue
		}
		gn := r.conn[b] - internal
		if gn > bg || (gn == bg && r.pw[b] < r.pw[best]) {
			best, bg = b, gn
		}
	}
	r.release()
	return best, bg
}

// accept reports whether moving u to b with gain gn is worthwhile.
func (r *refiner) accept(u int, b int32, gn float64) bool {
	if b < 0 {
		return false
	}
	return gn > 0 || (gn == 0 && r.pw[b]+r.g.vw[u] < r.pw[r.part[u]])
}

func (r *refiner) move(u int, b int32) {
	w := r.g.vw[u]
	r.pw[r.part[u]] -= w
	r.pw[b] += w
	r.pn[r.part[u]]--
	r.pn[b]++
	if r.cached {
		a := r.part[u]
		g := r.g
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			v := int(g.adj[p])
			r.cacheShift(v, a, b, g.ew[p])
		}
	}
	r.part[u] = b
}

func (r *refiner) nextStamp() {
	r.stamp++
	if r.stamp == 0 {
		clear(r.locked)
		r.stamp = 1
	}
}

// refine runs up to passes passes of FM-style refinement: boundary nodes
// sit in a priority queue keyed by the gain of their best admissible move;
// the best move is applied even when its gain is negative (hill climbing),
// each node moves at most once per pass, a pass stops after stall
// consecutive moves without improvement, and the moves after the best point
// seen are undone. Zero-gain moves that improve balance count as
// improvements. It returns early, leaving the partition unusable, once
// the refiner's context is cancelled.
func (r *refiner) refine(passes int) {
	g := r.g
	stall := max(50, min(g.n/100, 300))
	type undo struct {
		node int32
		from int32
	}
	var log []undo
	r.buildCache()
	defer func() { r.cached = false }()
	if r.tk.stop.stopped() {
		return
	}
	for pass := 0; pass < passes; pass++ {
		r.nextStamp()
		r.heap = r.heap[:0]
		for u := 0; u < g.n; u++ {
			if r.tk.add(int64(r.cn[u])) {
				return
			}
			if b, gn := r.cachedMove(u); b >= 0 {
				r.heap.push(item{gain: gn, tie: r.rng.Uint32(), ver: r.ver[u], node: int32(u)})
			}
		}
		log = log[:0]
		sum, best, bestLen := 0.0, 0.0, 0
		for len(r.heap) > 0 && len(log)-bestLen < stall {
			if r.tk.add(popCost + int64(r.cn[r.heap[0].node])) {
				return
			}
			it := r.heap.pop()
			u := int(it.node)
			if r.locked[u] == r.stamp || it.ver != r.ver[u] {
				continue
			}
			b, gn := r.cachedMove(u)
			if b < 0 {
				continue
			}
			if r.requeueIfStale(it, gn) { // a receiving part filled up since the key was set
				continue
			}
			improves := gn > 0 || (gn == 0 && r.pw[b]+g.vw[u] < r.pw[r.part[u]])
			log = append(log, undo{int32(u), r.part[u]})
			r.move(u, b)
			r.locked[u] = r.stamp
			sum += gn
			if sum > best || (sum == best && improves && bestLen == len(log)-1) {
				best, bestLen = sum, len(log)
			}
			// The cache makes the neighbours' new gains cheap to compute
			// exactly; their queue entries are replaced.
			for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
				v := int(g.adj[p])
				r.tk.spend(popCost + 2*int64(r.cn[v])) // cacheShift in move, cachedMove and a push here
				if r.locked[v] == r.stamp {
					continue
				}
				r.ver[v]++
				if b, gn := r.cachedMove(v); b >= 0 {
					r.heap.push(item{gain: gn, tie: r.rng.Uint32(), ver: r.ver[v], node: int32(v)})
				}
			}
		}
		for i := len(log) - 1; i >= bestLen; i-- {
			r.move(int(log[i].node), log[i].from)
		}
		// Nodes touched by undone moves keep bumped versions; that is
		// harmless because the next pass rebuilds the queue.
		if bestLen == 0 {
			return
		}
	}
}

// overweight reports whether some part exceeds its limit.
func (r *refiner) overweight() bool {
	for b, w := range r.pw {
		if w > r.maxW[b] {
			return true
		}
	}
	return false
}

// balanceMove picks the destination for u in the balancing step: the
// admissible neighbouring part or lightest part with the best gain, or, if
// none is admissible, the lightest part when that still lowers the weight
// of u's part below its current value.
func (r *refiner) balanceMove(u int) (int32, float64) {
	if r.pn[r.part[u]] <= 1 {
		return -1, negInf
	}
	light := int32(0)
	for b := 1; b < r.k; b++ {
		if r.pw[b] < r.pw[light] {
			light = int32(b)
		}
	}
	r.gather(u)
	a := r.part[u]
	w := r.g.vw[u]
	internal := r.conn[a]
	best, bg := int32(-1), negInf
	consider := func(b int32) {
		if b == a || r.pw[b]+w > r.maxW[b] {
			return
		}
		gn := r.conn[b] - internal
		if gn > bg || (gn == bg && r.pw[b] < r.pw[best]) {
			best, bg = b, gn
		}
	}
	for _, b := range r.touched {
		consider(b)
	}
	consider(light)
	if best < 0 && light != a && r.pw[light]+w < r.pw[a] {
		best, bg = light, r.conn[light]-internal
	}
	r.release()
	return best, bg
}

// balance moves nodes out of overweight parts, cheapest first. Like
// refine, it returns early once the refiner's context is cancelled.
func (r *refiner) balance() {
	if !r.overweight() {
		return
	}
	g := r.g
	r.nextStamp()
	r.heap = r.heap[:0]
	for u := 0; u < g.n; u++ {
		if r.tk.add(0) {
			return
		}
		if g.vw[u] == 0 || r.pw[r.part[u]] <= r.maxW[r.part[u]] {
			continue
		}
		r.tk.spend(g.xadj[u+1] - g.xadj[u] + int64(r.k))
		if b, gn := r.balanceMove(u); b >= 0 {
			r.heap.push(item{gain: gn, tie: r.rng.Uint32(), ver: r.ver[u], node: int32(u)})
		}
	}
	for len(r.heap) > 0 {
		if r.tk.add(popCost) {
			return
		}
		it := r.heap.pop()
		u := int(it.node)
		a := r.part[u]
		if r.locked[u] == r.stamp || it.ver != r.ver[u] || r.pw[a] <= r.maxW[a] {
			continue
		}
		r.tk.spend(g.xadj[u+1] - g.xadj[u] + int64(r.k))
		b, gn := r.balanceMove(u)
		if b < 0 {
			continue
		}
		if r.requeueIfStale(it, gn) { // a part got heavier since the key was set
			continue
		}
		r.move(u, b)
		r.locked[u] = r.stamp
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			v := int(g.adj[p])
			pv := r.part[v]
			if r.locked[v] == r.stamp || g.vw[v] == 0 || r.pw[pv] <= r.maxW[pv] {
				continue
			}
			r.tk.spend(g.xadj[v+1] - g.xadj[v] + int64(r.k))
			r.ver[v]++
			if b, gn := r.balanceMove(v); b >= 0 {
				r.heap.push(item{gain: gn, tie: r.rng.Uint32(), ver: r.ver[v], node: int32(v)})
			}
		}
	}
}
