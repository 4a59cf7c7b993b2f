package partition

// Settings of the bisections (bisect).
const (
	// ipCoarsest: bisect coarsens its graph to about this many nodes.
	ipCoarsest = 32
	// ipGentle, ipGentleDiv, ipFinalDiv: while the graph has more than
	// ipGentle nodes, clusters weigh at most the smaller side limit over
	// ipGentleDiv (small clusters keep the structure that FM exploits on
	// every level); below, over ipFinalDiv, so that the many tries run on a
	// small graph.
	ipGentle    = 300
	ipGentleDiv = 50
	ipFinalDiv  = 8
	// ipTries: bisections tried on the coarsest graph.
	ipTries = 32
	// ipPasses: FM passes per level.
	ipPasses = 3
	// ipStall: an FM pass stops after this many moves without a new best
	// state.
	ipStall = 50
	// ipAbort: FM stops after a pass that improves the cut by less than
	// this fraction.
	ipAbort = 1e-4
)

// bisect splits g into sides 0 and 1, side 0 aiming at weight t0, side i
// weighing at most maxW[i] where possible, with few cut edges. It is
// multilevel and sequential: g is coarsened by one-round sequential label
// propagation (with two-hop grouping) to about ipCoarsest nodes, ipTries
// bisections of the coarsest graph (greedy graph growing and breadth-first
// growing, from pseudo-peripheral and from random start nodes, each
// improved by FM) compete, and the best (least overload, then least cut,
// then first) is projected back and improved by FM on every level. All
// random choices come from seed.
func bisect(p *pool, sc *scratch, g *wgraph, maxW [2]int64, t0 int64, seed uint64) ([]int32, error) {
	side0 := min(maxW[0], maxW[1])
	scs := []*scratch{sc}
	levels, cmaps, err := coarsenLevels(p, g, func(cur *wgraph) bool { return cur.n > ipCoarsest },
		func(cur *wgraph, level int) ([]int32, error) {
			capCW := max(1, side0/ipGentleDiv)
			if cur.n <= ipGentle {
				capCW = max(1, side0/ipFinalDiv)
			}
			lv := uint64(level + 1)
			return lpCluster(p, scs, cur, degreeOrder(cur, seed, lv), capCW, lpClusterConfig{rounds: 1, seed: seed + lv})
		})
	if err != nil {
		return nil, err
	}
	cg := levels[len(levels)-1]
	rng := newRand(seed, 1<<61)
	var best []int32
	bestOver, bestCut := int64(0), 0.0
	for t := 0; t < ipTries; t++ {
		start := rng.IntN(cg.n)
		if t%4 < 2 {
			start = peripheral(cg, peripheral(cg, start))
		}
		var side []int32
		if t%2 == 0 {
			side = growGreedy(cg, maxW, t0, start)
		} else {
			side = growBFS(cg, maxW, t0, start)
		}
		f := newFM2(cg, side, maxW)
		c, err := f.refine(p, ipPasses, ipStall)
		if err != nil {
			return nil, err
		}
		if ov := f.overload(); best == nil || ov < bestOver || (ov == bestOver && c < bestCut) {
			best, bestOver, bestCut = side, ov, c
		}
	}
	side := best
	for lv := len(levels) - 2; lv >= 0; lv-- {
		fine := make([]int32, levels[lv].n)
		for u, c := range cmaps[lv] {
			fine[u] = side[c]
		}
		side = fine
		f := newFM2(levels[lv], side, maxW)
		if _, err := f.refine(p, ipPasses, ipStall); err != nil {
			return nil, err
		}
	}
	return side, nil
}

// growGreedy grows side 0 from node start, always adding the frontier
// node whose move lowers the cut most, until side 0 reaches t0 (nodes that
// would take it over maxW[0] are skipped); when the frontier runs dry it
// restarts from the next node in id order (cyclically after start) not yet
// taken.
func growGreedy(g *wgraph, maxW [2]int64, t0 int64, start int) []int32 {
	side := make([]int32, g.n)
	gain := make([]float64, g.n)
	for u := range side {
		side[u] = 1
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			gain[u] -= g.ew[p]
		}
	}
	var h gainHeap
	h.reset(g.n)
	w0 := int64(0)
	done := make([]bool, g.n)
	next := 0
	for w0 < t0 {
		if h.len() == 0 {
			for next < g.n && done[(next+start)%g.n] {
				next++
			}
			if next == g.n {
				break
			}
			u := int32((next + start) % g.n)
			h.set(u, gain[u])
		}
		u, _ := h.top()
		h.remove(u)
		done[u] = true
		if w0+g.vw[u] > maxW[0] {
			continue
		}
		side[u] = 0
		w0 += g.vw[u]
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			v := g.adj[p]
			if done[v] {
				continue
			}
			gain[v] += 2 * g.ew[p]
			h.set(v, gain[v])
		}
	}
	return side
}

// growBFS grows side 0 breadth-first from node start until it reaches t0,
// skipping nodes that would take it over maxW[0]; it restarts like
// growGreedy.
func growBFS(g *wgraph, maxW [2]int64, t0 int64, start int) []int32 {
	side := make([]int32, g.n)
	for u := range side {
		side[u] = 1
	}
	seen := make([]bool, g.n)
	queue := make([]int32, 0, g.n)
	w0 := int64(0)
	next := 0
	for head := 0; w0 < t0; head++ {
		if head == len(queue) {
			for next < g.n && seen[(next+start)%g.n] {
				next++
			}
			if next == g.n {
				break
			}
			u := int32((next + start) % g.n)
			seen[u] = true
			queue = append(queue, u)
		}
		u := queue[head]
		if w0+g.vw[u] > maxW[0] {
			continue
		}
		side[u] = 0
		w0 += g.vw[u]
		for _, v := range g.adj[g.xadj[u]:g.xadj[u+1]] {
			if !seen[v] {
				seen[v] = true
				queue = append(queue, v)
			}
		}
	}
	return side
}

// peripheral returns the node that a breadth-first search from start
// reaches last (in start's component): applied twice from a random node, a
// pseudo-peripheral node, from which growing gives straighter cuts on
// mesh-like graphs.
func peripheral(g *wgraph, start int) int {
	seen := make([]bool, g.n)
	queue := make([]int32, 1, g.n)
	queue[0] = int32(start)
	seen[start] = true
	for head := 0; head < len(queue); head++ {
		u := queue[head]
		for _, v := range g.adj[g.xadj[u]:g.xadj[u+1]] {
			if !seen[v] {
				seen[v] = true
				queue = append(queue, v)
			}
		}
	}
	return int(queue[len(queue)-1])
}
