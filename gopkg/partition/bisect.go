package partition

import (
	"math/rand/v2"
	"os"
)

// Settings of the initial bisections (bisect).
var (
	// ipCoarsest: bisect coarsens its graph to about this many nodes.
	ipCoarsest = envInt("PIC", 64)
	// ipTries: bisections tried on the coarsest graph.
	ipTries = envInt("PIT", 12)
)

const (
	// ipClusterDiv: clusters weigh at most the smaller side limit over this.
	ipClusterDivX = 12
	// ipPasses: FM passes per level.
	// ipAbort: FM stops after a pass that improves the cut by less than
	// this fraction.
)

var ipAbort = float64(envInt("PABORT", 1)) * 1e-4

var ipPasses = envInt("PPASS", 3)

// ipStall is the FM stall limit (moves without a new best) for a graph of
// n nodes.
func ipStall(n int) int { return envInt("PSTALL", 50) }

// bisect splits g into sides 0 and 1, side 0 aiming at weight t0, side i
// weighing at most maxW[i] where possible, with few cut edges. It is
// multilevel and sequential: g is coarsened by sequential label
// propagation to about ipCoarsest nodes, ipTries bisections of the
// coarsest graph (greedy graph growing and breadth-first growing, from
// pseudo-peripheral and from random start nodes, each improved by FM) compete, and
// the best (least overload, then least cut, then first) is projected back
// and improved by FM on every level. All random choices come from seed.
func bisect(p *pool, sc *scratch, g *wgraph, maxW [2]int64, t0 int64, seed uint64) ([]int32, error) {
	levels := []*wgraph{g}
	var cmaps [][]int32
	capCW := max(1, min(maxW[0], maxW[1])/int64(envInt("PIDIV", 50)))
	for cur := g; cur.n > ipCoarsest && len(levels) < 64; {
		var cg *wgraph
		var cmap []int32
		if envInt("PHEM", 0) != 0 {
			cg, cmap = coarsen(cur, max(1, int64(1.5*float64(g.total)/100)), newRand(seed, uint64(len(levels))))
		} else if r := envInt("PIPLP", 1); r > 0 {
			cl, err := lpCluster(p, []*scratch{sc}, cur, degreeOrder(cur, seed, uint64(len(levels))), capCW, lpClusterConfig{rounds: r, seed: seed + uint64(len(levels))})
			if err != nil {
				return nil, err
			}
			cg, cmap, err = contract(p, cur, cl)
			if err != nil {
				return nil, err
			}
		} else {
			cl := ipCluster(cur, sc, capCW, newRand(seed, uint64(len(levels))))
			var err error
			cg, cmap, err = contract(p, cur, cl)
			if err != nil {
				return nil, err
			}
		}
		if float64(cg.n) > 0.95*float64(cur.n) {
			break
		}
		levels = append(levels, cg)
		cmaps = append(cmaps, cmap)
		cur = cg
	}
	cg := levels[len(levels)-1]
	if os.Getenv("PDEBUG") != "" {
		var ns []int
		for _, l := range levels {
			ns = append(ns, l.n)
		}
		debugf("bisect levels %v cap %d", ns, capCW)
	}
	rng := newRand(seed, 1<<61)
	var best []int32
	bestOver, bestCut := int64(0), 0.0
	for t := 0; t < ipTries; t++ {
		var side []int32
		start := rng.IntN(cg.n)
		if t%4 < 2 {
			start = peripheral(cg, peripheral(cg, start))
		}
		switch t % 4 {
		case 0, 2:
			side = growGreedy(cg, maxW, t0, start, rng)
		default:
			side = growBFS(cg, maxW, t0, start, rng)
		}
		f := newFM2(cg, side, maxW)
		statTry = true
		c, err := f.refine(p, envInt("PTRYPASS", ipPasses), min(ipStall(cg.n), max(10, cg.n/envInt("PTRYDIV", 1))))
		statTry = false
		if err != nil {
			return nil, err
		}
		debugf("  try %d: cut %.0f over %d", t, c, f.overload())
		if ov := f.overload(); best == nil || ov < bestOver || (ov == bestOver && c < bestCut) {
			best, bestOver, bestCut = side, ov, c
		}
	}
	side := best
	if envInt("PTRYPASS", ipPasses) < ipPasses {
		f := newFM2(cg, side, maxW)
		if _, err := f.refine(p, ipPasses, ipStall(cg.n)); err != nil {
			return nil, err
		}
	}
	for lv := len(levels) - 2; lv >= 0; lv-- {
		fine := make([]int32, levels[lv].n)
		for u, c := range cmaps[lv] {
			fine[u] = side[c]
		}
		side = fine
		f := newFM2(levels[lv], side, maxW)
		passes := ipPasses
		if lv == 0 {
			passes = envInt("PTOPPASS", ipPasses)
		}
		c, err := f.refine(p, passes, ipStall(levels[lv].n))
		if err != nil {
			return nil, err
		}
		debugf("  level %d: cut %.0f", lv, c)
	}
	return side, nil
}

// growGreedy grows side 0 from node start, always adding the frontier
// node whose move lowers the cut most, until side 0 reaches t0 (nodes that
// would take it over maxW[0] are skipped); when the frontier runs dry it
// restarts from the next node in id order (cyclically after start) not yet
// taken.
func growGreedy(g *wgraph, maxW [2]int64, t0 int64, start int, rng *rand.Rand) []int32 {
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
	next, off := 0, start
	for w0 < t0 {
		if h.len() == 0 {
			for next < g.n && done[(next+off)%g.n] {
				next++
			}
			if next == g.n {
				break
			}
			u := int32((next + off) % g.n)
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
func growBFS(g *wgraph, maxW [2]int64, t0 int64, start int, rng *rand.Rand) []int32 {
	side := make([]int32, g.n)
	for u := range side {
		side[u] = 1
	}
	seen := make([]bool, g.n)
	queue := make([]int32, 0, g.n)
	w0 := int64(0)
	next, off := 0, start
	for head := 0; w0 < t0; head++ {
		if head == len(queue) {
			for next < g.n && seen[(next+off)%g.n] {
				next++
			}
			if next == g.n {
				break
			}
			u := int32((next + off) % g.n)
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

// ipCluster is the one-pass clustering of bisect's coarsening: nodes are
// visited in random order, and a node that nobody has joined yet joins the
// neighbouring cluster it is most strongly connected to (ties broken at
// random) if that cluster stays within capCW; a cluster that was joined
// keeps its node. Clusters are labelled by their first node.
func ipCluster(g *wgraph, sc *scratch, capCW int64, rng *rand.Rand) []int32 {
	n := g.n
	sc.ensure(n)
	rating := sc.rating
	leader := make([]int32, n)
	cw := make([]int64, n)
	locked := make([]bool, n)
	for u := range leader {
		leader[u] = int32(u)
		cw[u] = g.vw[u]
	}
	for _, u := range rng.Perm(n) {
		if locked[u] {
			continue
		}
		t := sc.touched[:0]
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			c := leader[g.adj[p]]
			if rating[c] == 0 {
				t = append(t, c)
			}
			rating[c] += g.ew[p]
		}
		best, bg, w := int32(u), 0.0, g.vw[u]
		for _, c := range t {
			r := rating[c]
			rating[c] = 0
			if c == int32(u) || cw[c]+w > capCW {
				continue
			}
			if r > bg || (r == bg && rng.Uint32()&1 == 0) {
				best, bg = c, r
			}
		}
		sc.touched = t
		if best != int32(u) {
			leader[u] = best
			locked[best] = true
			cw[best] += w
		}
	}
	return leader
}
