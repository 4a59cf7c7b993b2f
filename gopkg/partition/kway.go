package partition

import (
	"math"
	"slices"
)

// kway is a partition of one level's graph into blocks, with what the deep
// refinement needs: block weights and node counts, the weight limit of
// every block, and keep[b], the node count at or below which refinement
// takes no node out of block b (a block that stands for r final parts keeps
// r nodes, so that every final part can get one).
type kway struct {
	g    *wgraph
	part []int32
	pw   []int64
	pn   []int32
	maxW []int64
	keep []int32
}

func newKway(g *wgraph, part []int32, maxW []int64, keep []int32) *kway {
	k := len(maxW)
	s := &kway{g: g, part: part, pw: make([]int64, k), pn: make([]int32, k), maxW: maxW, keep: keep}
	for u, b := range part {
		s.pw[b] += g.vw[u]
		s.pn[b]++
	}
	return s
}

func (s *kway) move(u int32, b int32) {
	a, w := s.part[u], s.g.vw[u]
	s.pw[a] -= w
	s.pn[a]--
	s.pw[b] += w
	s.pn[b]++
	s.part[u] = b
}

// bestMove returns the block b ≠ part[u] that u is most strongly connected
// to among those that can take u without exceeding their limit (ties: the
// lighter block, then a hash of (salt, u, b)), with the gain of the move
// (connection to b minus connection to u's own block); -1 if there is none.
func (s *kway) bestMove(sc *scratch, u int32, salt uint64) (int32, float64) {
	g := s.g
	conn := sc.rating
	t := sc.touched[:0]
	adj, ew := g.adj[g.xadj[u]:g.xadj[u+1]], g.rowWeights(u)
	for i, v := range adj {
		b := s.part[v]
		if conn[b] == 0 {
			t = append(t, b)
		}
		if ew == nil {
			conn[b]++
		} else {
			conn[b] += ew[i]
		}
	}
	a, w := s.part[u], g.vw[u]
	internal := conn[a]
	best, bg, bh := int32(-1), math.Inf(-1), uint64(0)
	key := salt ^ uint64(u)<<32
	anyGain := 0.0
	for _, b := range t {
		c := conn[b]
		conn[b] = 0
		if b == a {
			continue
		}
		if s.pw[b]+w > s.maxW[b] {
			anyGain = max(anyGain, c-internal)
			continue
		}
		gn := c - internal
		if gn < bg {
			continue
		}
		if gn > bg || s.pw[b] < s.pw[best] {
			best, bg, bh = b, gn, mix(key^uint64(uint32(b)))
			continue
		}
		if s.pw[b] == s.pw[best] {
			if h := mix(key ^ uint64(uint32(b))); h > bh {
				best, bh = b, h
			}
		}
	}
	sc.touched = t
	sc.blocked = anyGain > max(bg, 0)
	return best, bg
}

// improves reports whether moving u to b with gain gn is a refinement move:
// it lowers the cut, or keeps it and makes the heavier of the two blocks
// lighter.
func (s *kway) improves(u int32, b int32, gn float64) bool {
	if b < 0 || s.pn[s.part[u]] <= s.keep[s.part[u]] {
		return false
	}
	return gn > 0 || (gn == 0 && s.pw[b]+s.g.vw[u] < s.pw[s.part[u]])
}

// lpRefineConfig sets how lpRefine runs.
type lpRefineConfig struct {
	rounds    int
	subRounds int
	seed      uint64
}

// lpRefine runs label-propagation refinement: in every round the nodes are
// visited in the given order, split into sub-rounds; the nodes of a
// sub-round find their best move in parallel against the state at its
// start, then the nodes that found an improving move are taken in visiting
// order, their best move recomputed on the current state and applied if it
// still improves. After the first round a node is visited again only if a
// neighbour moved, its best block was full (it may get lighter) or its
// proposed move fell through; interior nodes are skipped at the cost of a
// scan of their neighbours. Rounds stop when one moves almost nothing.
func (s *kway) lpRefine(p *pool, sc []*scratch, order []int32, cfg lpRefineConfig) error {
	n := s.g.n
	prop := make([]int32, n)
	active := make([]bool, n)
	for i := range active {
		active[i] = true
	}
	for _, x := range sc {
		x.ensure(len(s.pw))
	}
	for round := 0; round < cfg.rounds; round++ {
		salt := mix(cfg.seed ^ uint64(round+1)*0xd1b54a32d192ed03)
		moved := 0
		for sr := 0; sr < cfg.subRounds; sr++ {
			slice := order[n*sr/cfg.subRounds : n*(sr+1)/cfg.subRounds]
			work := int64(len(slice)) * int64(len(s.g.adj)) / int64(max(n, 1))
			err := p.forChunksWork(len(slice), lpChunk, work, func(w, lo, hi int) {
				x := sc[w]
				for _, u := range slice[lo:hi] {
					prop[u] = -1
					if !active[u] {
						continue
					}
					active[u] = false
					a := s.part[u]
					if s.pn[a] <= s.keep[a] || !s.boundary(u) {
						continue
					}
					b, gn := s.bestMove(x, u, salt)
					if s.improves(u, b, gn) {
						prop[u] = b
					} else if x.blocked {
						active[u] = true
					}
				}
			})
			if err != nil {
				return err
			}
			x := sc[0]
			for i, u := range slice {
				if i&4095 == 4095 {
					if err := p.cancelled(); err != nil {
						return err
					}
				}
				if prop[u] < 0 {
					continue
				}
				if b, gn := s.bestMove(x, u, salt); s.improves(u, b, gn) {
					s.move(u, b)
					moved++
					for _, v := range s.g.adj[s.g.xadj[u]:s.g.xadj[u+1]] {
						active[v] = true
					}
				} else {
					active[u] = true
				}
			}
		}
		if moved <= n/1000 {
			break
		}
	}
	return nil
}

// boundary reports whether u has a neighbour in another block.
func (s *kway) boundary(u int32) bool {
	a := s.part[u]
	for _, v := range s.g.adj[s.g.xadj[u]:s.g.xadj[u+1]] {
		if s.part[v] != a {
			return true
		}
	}
	return false
}

// overloaded reports whether some block exceeds its limit.
func (s *kway) overloaded() bool {
	for b, w := range s.pw {
		if w > s.maxW[b] {
			return true
		}
	}
	return false
}

// lightest returns the lightest block (the lowest id among equals).
func (s *kway) lightest() int32 {
	l := 0
	for b := 1; b < len(s.pw); b++ {
		if s.pw[b] < s.pw[l] {
			l = b
		}
	}
	return int32(l)
}

// balanceMove returns where the balancer sends u: the block with the best
// gain among u's neighbouring blocks and the lightest block light that can
// take u within their limits; if none can, light itself when that still
// leaves it lighter than u's block is now; -1 otherwise.
func (s *kway) balanceMove(sc *scratch, u int32, light int32, salt uint64) (int32, float64) {
	g := s.g
	b, gn := s.bestMove(sc, u, salt)
	a, w := s.part[u], g.vw[u]
	if light == a || (b >= 0 && gn >= 0) {
		return b, gn
	}
	// Gain of moving to light: minus the connection to a, plus that to light.
	internal, toLight := 0.0, 0.0
	adj, ew := g.adj[g.xadj[u]:g.xadj[u+1]], g.ew[g.xadj[u]:g.xadj[u+1]]
	for i, v := range adj {
		switch s.part[v] {
		case a:
			internal += ew[i]
		case light:
			toLight += ew[i]
		}
	}
	lg := toLight - internal
	if s.pw[light]+w <= s.maxW[light] {
		if b < 0 || lg > gn {
			return light, lg
		}
		return b, gn
	}
	if b >= 0 {
		return b, gn
	}
	if s.pw[light]+w < s.pw[a] {
		return light, lg
	}
	return -1, 0
}

// relGain ranks balancing moves: the best positive gain per unit moved
// first, then the least loss per unit weight.
func relGain(gn float64, w int64) float64 {
	if gn >= 0 {
		return gn * float64(w)
	}
	return gn / float64(w)
}

// balance moves nodes out of blocks over their limit. Every iteration
// ranks the movable nodes of overloaded blocks (boundary nodes first; all
// of them once boundary nodes no longer help) by relGain of their balancing
// move against the state at its start, computed in parallel, then takes
// them in that order, recomputing each move on the current state, while
// their block is still overloaded. A block is never emptied. With W the
// total weight, k blocks and wmax the largest node weight, every block ends
// at most max(limit, W/k + wmax) heavy (a block above that has a node whose
// move to the lightest block, lighter than W/k, is allowed).
func (s *kway) balance(p *pool, sc []*scratch, seed uint64) error {
	g := s.g
	for _, x := range sc {
		x.ensure(len(s.pw))
	}
	boundaryOnly := true
	const chunk = 1 << 13
	nChunks := (g.n + chunk - 1) / chunk
	lists := make([][]int32, nChunks)
	var prio []float64
	for iter := 0; iter < 64 && s.overloaded(); iter++ {
		if err := p.forChunks(g.n, chunk, func(_, lo, hi int) {
			l := lists[lo/chunk][:0]
			for u := lo; u < hi; u++ {
				a := s.part[u]
				if s.pw[a] <= s.maxW[a] || g.vw[u] == 0 {
					continue
				}
				if boundaryOnly {
					bd := false
					for _, v := range g.adj[g.xadj[u]:g.xadj[u+1]] {
						if s.part[v] != a {
							bd = true
							break
						}
					}
					if !bd {
						continue
					}
				}
				l = append(l, int32(u))
			}
			lists[lo/chunk] = l
		}); err != nil {
			return err
		}
		var cand []int32
		for _, l := range lists {
			cand = append(cand, l...)
		}
		salt := mix(seed ^ uint64(iter+1)*0x8cb92ba72f3d8dd7)
		light := s.lightest()
		if prio == nil {
			prio = make([]float64, g.n)
		}
		if err := p.forChunks(len(cand), lpChunk, func(w, lo, hi int) {
			for _, u := range cand[lo:hi] {
				if b, gn := s.balanceMove(sc[w], u, light, salt); b >= 0 {
					prio[u] = relGain(gn, g.vw[u])
				} else {
					prio[u] = math.Inf(-1)
				}
			}
		}); err != nil {
			return err
		}
		slices.SortFunc(cand, func(x, y int32) int {
			if prio[x] != prio[y] {
				if prio[x] > prio[y] {
					return -1
				}
				return 1
			}
			return int(x - y)
		})
		moved := 0
		for i, u := range cand {
			if i&1023 == 1023 {
				if err := p.cancelled(); err != nil {
					return err
				}
			}
			a := s.part[u]
			if s.pw[a] <= s.maxW[a] || s.pn[a] <= 1 {
				continue
			}
			b, _ := s.balanceMove(sc[0], u, light, salt)
			if b < 0 {
				continue
			}
			s.move(u, b)
			moved++
			if b == light {
				light = s.lightest()
			}
		}
		if moved == 0 {
			if !boundaryOnly {
				break
			}
			boundaryOnly = false
		}
	}
	return p.cancelled()
}

// forceBalance guarantees the documented bound: while some block weighs
// more than its limit and more than W/k + wmax (W the total weight, k
// blocks, wmax the heaviest node), its lightest node of positive weight
// moves to the lightest block. The lightest block weighs less than W/k, so
// it stays within the bound, and every move lowers the sum of squared block
// weights. After balance this finds nothing to do but in contrived cases.
// It looks at p's context before every move (each scans the graph once).
func (s *kway) forceBalance(p *pool) error {
	g := s.g
	k := len(s.pw)
	wmax := int64(0)
	for _, w := range g.vw {
		wmax = max(wmax, w)
	}
	bound := float64(g.total)/float64(k) + float64(wmax)
	for {
		a := -1
		for b, w := range s.pw {
			if w > s.maxW[b] && float64(w) > bound {
				a = b
				break
			}
		}
		if a < 0 {
			return nil
		}
		if err := p.cancelled(); err != nil {
			return err
		}
		best := int32(-1)
		for u := 0; u < g.n; u++ {
			if int(s.part[u]) == a && g.vw[u] > 0 && (best < 0 || g.vw[u] < g.vw[best]) {
				best = int32(u)
			}
		}
		s.move(best, s.lightest())
	}
}

// fillEmpty gives every empty block a node, taken from the block with the
// most nodes: its lightest node, the lowest id among equals. A block that
// receives one node weighs at most the largest node weight, so the balance
// bound is kept. It looks at p's context before every move.
func (s *kway) fillEmpty(p *pool) error {
	g := s.g
	for b := range s.pn {
		if s.pn[b] > 0 {
			continue
		}
		if err := p.cancelled(); err != nil {
			return err
		}
		src := int32(0)
		for a := range s.pn {
			if s.pn[a] > s.pn[src] {
				src = int32(a)
			}
		}
		if s.pn[src] <= 1 {
			return nil
		}
		best := int32(-1)
		for u := 0; u < g.n; u++ {
			if s.part[u] == src && (best < 0 || g.vw[u] < g.vw[best]) {
				best = int32(u)
			}
		}
		s.move(best, int32(b))
	}
	return nil
}
