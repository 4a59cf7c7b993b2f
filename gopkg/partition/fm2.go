package partition

// gainHeap is an indexed binary max-heap of nodes keyed by gain; among
// equal keys the lower node id comes first.
type gainHeap struct {
	node []int32
	key  []float64
	pos  []int32 // per node: its index in node, or -1
}

func (h *gainHeap) reset(n int) {
	if cap(h.pos) < n {
		h.pos = make([]int32, n)
	}
	h.pos = h.pos[:n]
	for i := range h.pos {
		h.pos[i] = -1
	}
	h.node, h.key = h.node[:0], h.key[:0]
}

func (h *gainHeap) len() int { return len(h.node) }

func (h *gainHeap) less(i, j int) bool {
	return h.key[i] > h.key[j] || (h.key[i] == h.key[j] && h.node[i] < h.node[j])
}

func (h *gainHeap) swap(i, j int) {
	h.node[i], h.node[j] = h.node[j], h.node[i]
	h.key[i], h.key[j] = h.key[j], h.key[i]
	h.pos[h.node[i]] = int32(i)
	h.pos[h.node[j]] = int32(j)
}

func (h *gainHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *gainHeap) down(i int) {
	n := len(h.node)
	for {
		l, m := 2*i+1, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// set inserts u with key k or changes its key.
func (h *gainHeap) set(u int32, k float64) {
	if i := h.pos[u]; i >= 0 {
		old := h.key[i]
		h.key[i] = k
		if k > old {
			h.up(int(i))
		} else {
			h.down(int(i))
		}
		return
	}
	h.node = append(h.node, u)
	h.key = append(h.key, k)
	h.pos[u] = int32(len(h.node) - 1)
	h.up(len(h.node) - 1)
}

func (h *gainHeap) top() (int32, float64) { return h.node[0], h.key[0] }

// remove takes u out of the heap if it is there.
func (h *gainHeap) remove(u int32) {
	i := int(h.pos[u])
	if i < 0 {
		return
	}
	last := len(h.node) - 1
	if i != last {
		h.swap(i, last)
	}
	h.node, h.key = h.node[:last], h.key[:last]
	h.pos[u] = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// fm2 refines a bisection with Fiduccia–Mattheyses passes.
type fm2 struct {
	g      *wgraph
	side   []int32
	gain   []float64 // cut reduction of moving the node to the other side
	wdeg   []float64 // weighted degree
	pw     [2]int64
	maxW   [2]int64
	heap   [2]gainHeap
	locked []bool
	moves  []int32
	// flooded[s]: all nodes of side s were queued in this pass.
	flooded [2]bool
	// count[s] nodes are on side s; no move takes side s below
	// minCount[s] nodes.
	count, minCount [2]int32
}

func newFM2(g *wgraph, side []int32, maxW [2]int64) *fm2 {
	f := &fm2{g: g, side: side, maxW: maxW, gain: make([]float64, g.n), wdeg: make([]float64, g.n), locked: make([]bool, g.n)}
	for u, s := range side {
		f.pw[s] += g.vw[u]
		f.count[s]++
	}
	return f
}

// gains recomputes every gain and returns the cut.
func (f *fm2) gains() float64 {
	g := f.g
	c := 0.0
	if g.unit {
		// Unit weights: count the neighbours on each side.
		for u := 0; u < g.n; u++ {
			s, other := f.side[u], 0
			adj := g.adj[g.xadj[u]:g.xadj[u+1]]
			for _, v := range adj {
				if f.side[v] != s {
					other++
				}
			}
			f.gain[u] = float64(2*other - len(adj))
			f.wdeg[u] = float64(len(adj))
			c += float64(other)
		}
		return c / 2
	}
	for u := 0; u < g.n; u++ {
		s, x, d := f.side[u], 0.0, 0.0
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			d += g.ew[p]
			if f.side[g.adj[p]] != s {
				x += g.ew[p]
				c += g.ew[p]
			} else {
				x -= g.ew[p]
			}
		}
		f.gain[u] = x
		f.wdeg[u] = d
	}
	return c / 2
}

// flood queues every unlocked node of side s (used when s is overloaded
// and has no boundary node left to move).
func (f *fm2) flood(s int32) {
	f.flooded[s] = true
	for u, x := range f.side {
		if x == s && !f.locked[u] {
			f.heap[s].set(int32(u), f.gain[u])
		}
	}
}

// overload is the total weight above the limits.
func (f *fm2) overload() int64 {
	return max(0, f.pw[0]-f.maxW[0]) + max(0, f.pw[1]-f.maxW[1])
}

// movable reports whether moving u (on side s) keeps the other side within
// its limit or at least lowers the overload.
func (f *fm2) movable(u int32, s int32) bool {
	if f.count[s] <= f.minCount[s] {
		return false
	}
	w := f.g.vw[u]
	t := 1 - s
	if f.pw[t]+w <= f.maxW[t] {
		return true
	}
	after := max(0, f.pw[s]-w-f.maxW[s]) + max(0, f.pw[t]+w-f.maxW[t])
	return after < f.overload()
}

// pick returns the side to move from next, or -1: an overloaded side
// first, otherwise the side whose best node has the larger gain (ties: the
// side fuller relative to its limit). Nodes that cannot move are dropped
// from the queues for the rest of the pass.
func (f *fm2) pick() int32 {
	for s := int32(0); s < 2; s++ {
		h := &f.heap[s]
		if h.len() == 0 && f.pw[s] > f.maxW[s] && !f.flooded[s] {
			f.flood(s)
		}
		for h.len() > 0 {
			u, _ := h.top()
			if f.movable(u, s) {
				break
			}
			h.remove(u)
		}
	}
	h0, h1 := f.heap[0].len() > 0, f.heap[1].len() > 0
	switch {
	case !h0 && !h1:
		return -1
	case f.pw[0] > f.maxW[0]:
		if h0 {
			return 0
		}
		return -1
	case f.pw[1] > f.maxW[1]:
		if h1 {
			return 1
		}
		return -1
	case !h0:
		return 1
	case !h1:
		return 0
	}
	_, g0 := f.heap[0].top()
	_, g1 := f.heap[1].top()
	if g0 != g1 {
		if g0 > g1 {
			return 0
		}
		return 1
	}
	if float64(f.pw[0])*float64(f.maxW[1]) >= float64(f.pw[1])*float64(f.maxW[0]) {
		return 0
	}
	return 1
}

// flip moves u to the other side and updates the gains of u and its
// neighbours.
func (f *fm2) flip(u int32) {
	g := f.g
	s := f.side[u]
	t := 1 - s
	w := g.vw[u]
	f.pw[s] -= w
	f.pw[t] += w
	f.count[s]--
	f.count[t]++
	f.side[u] = t
	f.gain[u] = -f.gain[u]
	adj, ew := g.adj[g.xadj[u]:g.xadj[u+1]], g.rowWeights(u)
	for i, v := range adj {
		d := 2.0
		if ew != nil {
			d = 2 * ew[i]
		}
		if f.side[v] == s {
			f.gain[v] += d
		} else {
			f.gain[v] -= d
		}
	}
}

// refine runs up to passes FM passes: every pass queues the boundary nodes by gain,
// repeatedly moves the best movable node of the side pick chooses (each
// node at most once), stops after stall moves without a new best state
// (least overload, then least cut) and rolls back to the best state. It
// returns the cut; passes stop early when one improves the cut by less
// than the fraction ipAbort.
func (f *fm2) refine(p *pool, passes, stall int) (float64, error) {
	g := f.g
	cut := f.gains()
	// Passes over large graphs can make many moves: tk looks at the
	// context after every checkWork units (a heap update costs popCost).
	tk := ticker{stop: p.stopper()}
	for pass := 0; pass < passes; pass++ {
		if err := p.cancelled(); err != nil {
			return 0, err
		}
		f.heap[0].reset(g.n)
		f.heap[1].reset(g.n)
		for u := 0; u < g.n; u++ {
			if tk.add(0) {
				return 0, p.cancelled()
			}
			f.locked[u] = false
			if f.gain[u] > -f.wdeg[u] {
				f.heap[f.side[u]].set(int32(u), f.gain[u])
			}
		}
		f.flooded = [2]bool{}
		f.moves = f.moves[:0]
		start := cut
		bestOver, bestCut, bestLen := f.overload(), cut, 0
		for {
			s := f.pick()
			if s < 0 {
				break
			}
			u, _ := f.heap[s].top()
			f.heap[s].remove(u)
			f.locked[u] = true
			cut -= f.gain[u]
			f.flip(u)
			for q := g.xadj[u]; q < g.xadj[u+1]; q++ {
				if v := g.adj[q]; !f.locked[v] {
					f.heap[f.side[v]].set(v, f.gain[v])
				}
			}
			f.moves = append(f.moves, u)
			if tk.add(popCost * (g.xadj[u+1] - g.xadj[u] + 1)) {
				return 0, p.cancelled()
			}
			if ov := f.overload(); ov < bestOver || (ov == bestOver && cut < bestCut-1e-9) {
				bestOver, bestCut, bestLen = ov, cut, len(f.moves)
			} else if len(f.moves)-bestLen >= stall {
				break
			}
		}
		for i := len(f.moves) - 1; i >= bestLen; i-- {
			f.flip(f.moves[i])
		}
		cut = bestCut
		if bestLen == 0 || start-cut <= ipAbort*start {
			break
		}
	}
	return cut, nil
}
