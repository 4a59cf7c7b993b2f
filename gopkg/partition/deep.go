package partition

import (
	"context"
	"fmt"
	"math"
	"math/bits"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Algorithm selects the partitioning scheme of Partition.
type Algorithm int

const (
	// Deep is deep multilevel partitioning with label propagation (the
	// default): size-constrained label-propagation coarsening, recursive
	// bisection interleaved with uncoarsening, and label-propagation
	// refinement with balancing on every level. See the package
	// documentation.
	Deep Algorithm = iota
	// HeavyEdge is the earlier multilevel scheme: heavy-edge matching,
	// recursive multilevel bisection of the coarsest graph into all parts,
	// and FM refinement on every level. Slower; kept for comparison.
	HeavyEdge
)

// String returns the name of the algorithm.
func (a Algorithm) String() string {
	switch a {
	case Deep:
		return "deep"
	case HeavyEdge:
		return "heavy-edge"
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// Settings of the deep scheme.
const (
	// contractionLimit (C): coarsening stops at 2C nodes, and a level of n
	// nodes is split into about n/C blocks.
	contractionLimit = 2000
	// convergence: coarsening stops when a level shrinks by less than this
	// fraction of its nodes.
	convergence = 0.05
	// Label-propagation rounds of the clustering and of the refinement;
	// nodes per sub-round of the clustering, sub-rounds per round of the
	// refinement.
	clusterRounds   = 4
	clusterSubRound = 256
	refineRounds    = 5
	refineSubRounds = 4
	// minSlack: a bisection may put at least minSlack·ε more than its share
	// of the weight on either side, even when its block is already as heavy
	// as allowed (the balancer evens that out later); without that slack
	// blocks at their limit were split badly.
	minSlack = 0.5
	// rootBisections: independent bisections of the coarsest graph, the
	// best of which is kept.
	rootBisections = 2
	// finestBlock: level 1, the last before the finest, is split into at
	// least Parts/f blocks, f the least power of two ≥ 2 that leaves
	// finestBlock of its nodes per block. The finest level then splits
	// every block at most f ways: its bisections coarsen every block they
	// split again, which on graphs with a single coarse level was the
	// costliest step (2 blocks became 32 on the finest level of a
	// 22k-node graph), while blocks of finestBlock coarse nodes still
	// leave the finest level's bisections enough to refine.
	finestBlock = 100
)

// deep holds the settings and per-goroutine scratch of one deep multilevel
// partitioning.
type deep struct {
	p    *pool
	sc   []*scratch
	k    int
	eps  float64
	lim  int64 // weight limit of one final part
	seed uint64
}

// blocks describes the blocks of a partition under construction: block b
// will become the final parts lo[b] … lo[b]+r[b]-1. Blocks are numbered in
// increasing order of lo.
type blocks struct {
	lo, r []int32
}

// partitionDeep is Partition's deep multilevel scheme for a validated
// graph g with node weights vw (2 ≤ k < g.NumNodes): it builds the
// internal graph on workers goroutines and partitions it. It returns ctx's
// error if ctx is cancelled.
func partitionDeep(ctx context.Context, g *graph.CSR, vw []int64, k int, eps float64, seed uint64, workers int) ([]int32, error) {
	wg, err := buildGraph(&pool{ctx: ctx, workers: max(workers, 1)}, g, vw)
	if err != nil {
		return nil, err
	}
	return deepPartition(ctx, wg, k, eps, seed, workers)
}

// deepPartition is Partition's deep multilevel scheme on the internal graph
// g (2 ≤ k < g.n). It returns ctx's error if ctx is cancelled.
func deepPartition(ctx context.Context, g *wgraph, k int, eps float64, seed uint64, workers int) ([]int32, error) {
	d := &deep{p: &pool{ctx: ctx, workers: max(workers, 1)}, k: k, eps: eps, seed: seed,
		lim: limit(float64(g.total)/float64(k), eps)}
	markUnit(g)
	d.sc = make([]*scratch, d.p.workers)
	for i := range d.sc {
		d.sc[i] = &scratch{}
	}

	// Coarsening: clusters may weigh ε·W/k' where k' is the number of
	// blocks the graph will have at this size, so that coarse nodes stay
	// light enough to balance the blocks. orders[lv] is level lv's node
	// order, for its clustering and its refinement.
	orders := [][]int32{degreeOrder(g, seed, 0)}
	levels, cmaps, err := coarsenLevels(d.p, g, func(cur *wgraph) bool { return cur.n > 2*contractionLimit },
		func(cur *wgraph, lv int) ([]int32, error) {
			if lv == len(orders) {
				orders = append(orders, degreeOrder(cur, seed, uint64(lv)))
			}
			kp := min(max(cur.n/contractionLimit, 2), k)
			maxCW := max(1, int64(eps*float64(cur.total)/float64(kp)))
			return lpCluster(d.p, d.sc, cur, orders[lv], maxCW,
				lpClusterConfig{rounds: clusterRounds, subRound: clusterSubRound, seed: mix(seed ^ uint64(lv+1)<<40)})
		})
	if err != nil {
		return nil, err
	}
	for lv := len(orders); lv < len(levels); lv++ {
		orders = append(orders, degreeOrder(levels[lv], seed, uint64(lv)))
	}

	// Initial partitioning, interleaved with uncoarsening: a level is
	// refined, then its blocks are split further while it has more than
	// about C nodes per block.
	coarsest := levels[len(levels)-1]
	part := make([]int32, coarsest.n)
	bl := blocks{lo: []int32{0}, r: []int32{int32(k)}}
	if part, bl, err = d.extend(coarsest, part, bl, d.rmax(d.levelK(coarsest.n, len(levels)-1)), uint64(len(levels)-1)); err != nil {
		return nil, err
	}
	var st *kway
	for lv := len(levels) - 1; ; lv-- {
		lg := levels[lv]
		if st, err = d.refine(lg, part, bl, orders[lv], lv); err != nil {
			return nil, err
		}
		if lv == 0 {
			break
		}
		if dk := d.levelK(lg.n, lv); len(bl.lo) < dk {
			if part, bl, err = d.extend(lg, part, bl, d.rmax(dk), uint64(lv)); err != nil {
				return nil, err
			}
		}
		if part, err = project(d.p, part, cmaps[lv-1]); err != nil {
			return nil, err
		}
	}
	if len(bl.lo) < k {
		if part, bl, err = d.extend(g, part, bl, 1, 1<<20); err != nil {
			return nil, err
		}
		if st, err = d.refine(g, part, bl, orders[0], 0); err != nil {
			return nil, err
		}
	}
	if len(bl.lo) != k {
		// A block with fewer nodes than final parts could not be split
		// all the way: its nodes go to its first part, and fillEmpty gives
		// the other parts a node each.
		for u, b := range part {
			part[u] = bl.lo[b]
		}
		maxW := make([]int64, k)
		keep := make([]int32, k)
		for b := range maxW {
			maxW[b], keep[b] = d.lim, 1
		}
		st = newKway(g, part, maxW, keep)
	}
	if err := st.forceBalance(d.p); err != nil {
		return nil, err
	}
	if err := st.fillEmpty(d.p); err != nil {
		return nil, err
	}
	if err := d.p.cancelled(); err != nil {
		return nil, err
	}
	return part, nil
}

// desiredK is the number of blocks a level of n nodes should have: the
// power of two nearest above n/C, at least 2 and at most k.
func (d *deep) desiredK(n int) int {
	q := n / contractionLimit
	if q < 2 {
		return min(2, d.k)
	}
	return min(1<<bits.Len(uint(q-1)), d.k)
}

// levelK is the number of blocks level lv, of n nodes, should have:
// desiredK(n), but on level 1 at least Parts/f blocks (see finestBlock).
func (d *deep) levelK(n, lv int) int {
	dk := d.desiredK(n)
	if lv == 1 {
		f := 2
		for f*n < finestBlock*d.k {
			f *= 2
		}
		dk = max(dk, min(d.k, (d.k+f-1)/f))
	}
	return dk
}

// rmax is the largest number of final parts a block may stand for once the
// partition has kp blocks.
func (d *deep) rmax(kp int) int32 { return int32((d.k + kp - 1) / kp) }

// refine balances and refines the partition part (blocks bl) of level lv's
// graph lg and returns its state. A block may weigh r·lim (r final parts of
// limit lim each); on coarse levels, and on the finest while blocks still
// stand for several parts, that bound is relaxed to r·lim/(1+ε) plus the
// heaviest node, since coarse nodes are too heavy to balance finely. With
// two blocks, 2-way FM follows the label propagation.
func (d *deep) refine(lg *wgraph, part []int32, bl blocks, order []int32, lv int) (*kway, error) {
	kp := len(bl.lo)
	maxNode := int64(0)
	for _, w := range lg.vw {
		maxNode = max(maxNode, w)
	}
	final := lv == 0 && kp == d.k
	maxW := make([]int64, kp)
	for b := range maxW {
		l := int64(bl.r[b]) * d.lim
		if !final {
			l = max(l, int64(math.Ceil(float64(l)/(1+d.eps)))+maxNode)
		}
		maxW[b] = l
	}
	st := newKway(lg, part, maxW, bl.r)
	stream := mix(d.seed ^ uint64(lv+1)<<32 ^ uint64(kp))
	if err := st.balance(d.p, d.sc, stream); err != nil {
		return nil, err
	}
	if err := st.lpRefine(d.p, d.sc, order, lpRefineConfig{rounds: refineRounds, subRounds: refineSubRounds, seed: stream}); err != nil {
		return nil, err
	}
	if kp == 2 {
		f := newFM2(lg, part, [2]int64{maxW[0], maxW[1]})
		f.minCount = [2]int32{bl.r[0], bl.r[1]}
		if _, err := f.refine(d.p, ipPasses, ipStall); err != nil {
			return nil, err
		}
		st = newKway(lg, part, maxW, bl.r)
	}
	if err := st.balance(d.p, d.sc, stream+1); err != nil {
		return nil, err
	}
	return st, nil
}

// extend splits every block that stands for more than rmax final parts by
// recursive bisection of the subgraph it induces, until every piece stands
// for at most rmax parts (or has a single node). Blocks are split in
// parallel, each sequentially with random choices drawn from (seed,
// stream, its first part), so the result does not depend on scheduling.
func (d *deep) extend(g *wgraph, part []int32, bl blocks, rmax int32, stream uint64) ([]int32, blocks, error) {
	kc := len(bl.lo)
	todo := 0 // blocks to split
	for _, r := range bl.r {
		if r > rmax {
			todo++
		}
	}
	if todo == 0 {
		return part, bl, nil
	}
	start := make([]int32, kc+1)
	for _, b := range part {
		start[b+1]++
	}
	for b := 0; b < kc; b++ {
		start[b+1] += start[b]
	}
	nodes := make([]int32, g.n)
	// slot[u] packs u's block (high half) and its index among the
	// block's nodes (low half): blockGraph reads one word per entry.
	slot := make([]uint64, g.n)
	fill := append([]int32(nil), start[:kc]...)
	for u, b := range part {
		slot[u] = uint64(uint32(b))<<32 | uint64(uint32(fill[b]-start[b]))
		nodes[fill[b]] = int32(u)
		fill[b]++
	}
	type pieces struct {
		of  []int32 // piece of every node of the block
		rs  []int32 // final parts of every piece
		err error
	}
	res := make([]pieces, kc)
	// With fewer blocks to split than goroutines, each block's recursion
	// may split the two sides of a bisection side by side (spare extra
	// goroutines per block).
	spare := max(0, d.p.workers/todo-1)
	err := d.p.forTasks(kc, func(_, b int) {
		if bl.r[b] <= rmax {
			return
		}
		sg := blockGraph(g, int32(b), nodes[start[b]:start[b+1]], slot)
		seq := &pool{ctx: d.p.ctx, workers: 1}
		of, rs, err := d.split(seq, &scratch{}, sg, bl.r[b], rmax, mix(d.seed^stream<<32^uint64(bl.lo[b])), spare)
		res[b] = pieces{of, rs, err}
	})
	if err != nil {
		return nil, blocks{}, err
	}
	var nb blocks
	base := make([]int32, kc)
	for b := 0; b < kc; b++ {
		if res[b].err != nil {
			return nil, blocks{}, res[b].err
		}
		base[b] = int32(len(nb.lo))
		if res[b].rs == nil {
			nb.lo = append(nb.lo, bl.lo[b])
			nb.r = append(nb.r, bl.r[b])
			continue
		}
		lo := bl.lo[b]
		for _, r := range res[b].rs {
			nb.lo = append(nb.lo, lo)
			nb.r = append(nb.r, r)
			lo += r
		}
	}
	np := make([]int32, g.n)
	for u, b := range part {
		if of := res[b].of; of != nil {
			np[u] = base[b] + of[uint32(slot[u])]
		} else {
			np[u] = base[b]
		}
	}
	return np, nb, nil
}

// blockGraph returns the subgraph of g induced by block b, whose nodes are
// members (in that order; slot gives every node's block in its high and
// its index among the members of its block in its low 32 bits).
func blockGraph(g *wgraph, b int32, members []int32, slot []uint64) *wgraph {
	m := int64(0)
	for _, u := range members {
		m += g.xadj[u+1] - g.xadj[u]
	}
	sg := &wgraph{n: len(members), xadj: make([]int64, len(members)+1), vw: make([]int64, len(members)), unit: g.unit,
		adj: make([]int32, 0, m), ew: make([]float64, 0, m)}
	for i, u := range members {
		sg.vw[i] = g.vw[u]
		sg.total += g.vw[u]
		ew := g.rowWeights(u)
		for q, v := range g.adj[g.xadj[u]:g.xadj[u+1]] {
			if sv := slot[v]; uint32(sv>>32) == uint32(b) {
				sg.adj = append(sg.adj, int32(uint32(sv)))
				if ew == nil {
					sg.ew = append(sg.ew, 1)
				} else {
					sg.ew = append(sg.ew, ew[q])
				}
			}
		}
		sg.xadj[i+1] = int64(len(sg.adj))
	}
	return sg
}

// split divides g, a block standing for r final parts, by recursive
// bisection into pieces of at most rmax parts each; side 0 of a bisection
// gets ⌈r/2⌉ parts. It returns the piece of every node and the parts of
// every piece. A graph of fewer than two nodes is not split. The block of
// all k parts (the coarsest graph) is bisected rootBisections times and
// the best result kept. Up to spare more goroutines may be started to
// split the two sides of a bisection side by side.
func (d *deep) split(p *pool, sc *scratch, g *wgraph, r, rmax int32, seed uint64, spare int) ([]int32, []int32, error) {
	if r <= rmax || g.n < 2 {
		return make([]int32, g.n), []int32{r}, nil
	}
	r0, r1 := (r+1)/2, r/2
	maxW, t0 := d.bisectLimits(g, r, r0)
	reps := 1
	if r == int32(d.k) {
		reps = rootBisections
	}
	type try struct {
		side []int32
		over int64
		cut  float64
		err  error
	}
	tries := make([]try, reps)
	run := func(rep int, p *pool, sc *scratch) {
		s, err := bisect(p, sc, g, maxW, t0, mix(seed+uint64(rep)*0x51))
		if err != nil {
			tries[rep].err = err
			return
		}
		if reps == 1 {
			// A single try is kept whatever its overload and cut.
			tries[rep] = try{side: s}
			return
		}
		f := newFM2(g, s, maxW)
		tries[rep] = try{side: s, over: f.overload(), cut: f.gains()}
	}
	if reps == 1 {
		run(0, p, sc)
	} else if err := d.p.forTasks(reps, func(_, rep int) {
		// The root bisections run side by side, each sequentially.
		run(rep, &pool{ctx: d.p.ctx, workers: 1}, &scratch{})
	}); err != nil {
		return nil, nil, err
	}
	var side []int32
	bestOver, bestCut := int64(0), 0.0
	for _, t := range tries {
		if t.err != nil {
			return nil, nil, t.err
		}
		if side == nil || t.over < bestOver || (t.over == bestOver && t.cut < bestCut) {
			side, bestOver, bestCut = t.side, t.over, t.cut
		}
	}
	c1 := min(int(r1), g.n/2)
	ensureCounts(g, side, min(int(r0), g.n-c1), c1, p.stopper())
	if err := p.cancelled(); err != nil {
		return nil, nil, err
	}
	if r0 <= rmax && r1 <= rmax {
		// Neither side is split further: each is one piece.
		return side, []int32{r0, r1}, nil
	}
	g0, g1, n0, n1 := induceSides(g, side, [2]bool{r0 > rmax, r1 > rmax})
	var of0, rs0, of1, rs1 []int32
	var err0, err1 error
	if spare > 0 && g0 != nil && g1 != nil {
		// Both sides are split further and a goroutine is spare: side 1
		// on a new goroutine (its own scratch); the result is the same as
		// one after the other, the sides sharing nothing.
		half := (spare - 1) / 2
		done := make(chan struct{})
		go func() {
			defer close(done)
			of1, rs1, err1 = d.splitSide(&pool{ctx: p.ctx, workers: 1}, &scratch{}, g1, len(n1), r1, rmax, mix(seed+2), half)
		}()
		of0, rs0, err0 = d.splitSide(p, sc, g0, len(n0), r0, rmax, mix(seed+1), spare-1-half)
		<-done
	} else {
		of0, rs0, err0 = d.splitSide(p, sc, g0, len(n0), r0, rmax, mix(seed+1), spare)
		if err0 == nil {
			of1, rs1, err1 = d.splitSide(p, sc, g1, len(n1), r1, rmax, mix(seed+2), spare)
		}
	}
	if err0 != nil {
		return nil, nil, err0
	}
	if err1 != nil {
		return nil, nil, err1
	}
	of := make([]int32, g.n)
	for i, u := range n0 {
		of[u] = of0[i]
	}
	for i, u := range n1 {
		of[u] = int32(len(rs0)) + of1[i]
	}
	return of, append(rs0, rs1...), nil
}

// splitSide is split for one side of a bisection, of n nodes and graph g,
// which is nil when the side stands for at most rmax parts (split returns
// one piece then, without looking at the graph).
func (d *deep) splitSide(p *pool, sc *scratch, g *wgraph, n int, r, rmax int32, seed uint64, spare int) ([]int32, []int32, error) {
	if g == nil {
		return make([]int32, n), []int32{r}, nil
	}
	return d.split(p, sc, g, r, rmax, seed, spare)
}

// bisectLimits returns the side weight limits and side 0's target weight
// for bisecting g (weight W), a block of r final parts, into sides of r0
// and r-r0 parts. The slack follows the adaptive ε of recursive
// bisection: the block may weigh r·lim, and that slack is shared out over
// the ⌈log2 r⌉ bisections still to come, so each side gets
// (1+ε')·W·rᵢ/r with (1+ε')^⌈log2 r⌉ = r·lim/W, but ε' at least minSlack·ε
// (see minSlack), plus room for one node of g.
func (d *deep) bisectLimits(g *wgraph, r, r0 int32) ([2]int64, int64) {
	W := float64(g.total)
	if g.total == 0 {
		return [2]int64{0, 0}, 0
	}
	maxNode := int64(0)
	for _, w := range g.vw {
		maxNode = max(maxNode, w)
	}
	depth := bits.Len32(uint32(r - 1))
	epsP := max(math.Pow(float64(int64(r)*d.lim)/W, 1/float64(depth))-1, minSlack*d.eps)
	var mw [2]int64
	for i, ri := range [2]int32{r0, r - r0} {
		share := W * float64(ri) / float64(r)
		mw[i] = max(int64((1+epsP)*share), int64(math.Ceil(share))+maxNode)
	}
	return mw, int64(math.Round(W * float64(r0) / float64(r)))
}

// induceSides returns the subgraphs of g induced by its sides 0 and 1 and
// their nodes (ascending), sizing every array exactly. The graph of a side
// s with !want[s] is not built (nil).
func induceSides(g *wgraph, side []int32, want [2]bool) (*wgraph, *wgraph, []int32, []int32) {
	var cnt [2]int
	var ent [2]int64
	for u, s := range side {
		cnt[s]++
		if !want[s] {
			continue
		}
		for _, v := range g.adj[g.xadj[u]:g.xadj[u+1]] {
			if side[v] == s {
				ent[s]++
			}
		}
	}
	var sub [2]*wgraph
	var nodes [2][]int32
	local := make([]int32, g.n)
	for s := range sub {
		nodes[s] = make([]int32, 0, cnt[s])
		if !want[s] {
			continue
		}
		sub[s] = &wgraph{xadj: make([]int64, 1, cnt[s]+1), vw: make([]int64, 0, cnt[s]), unit: g.unit,
			adj: make([]int32, 0, ent[s]), ew: make([]float64, 0, ent[s])}
	}
	for u, s := range side {
		local[u] = int32(len(nodes[s]))
		nodes[s] = append(nodes[s], int32(u))
	}
	for u, s := range side {
		if !want[s] {
			continue
		}
		h := sub[s]
		for q := g.xadj[u]; q < g.xadj[u+1]; q++ {
			if v := g.adj[q]; side[v] == s {
				h.adj = append(h.adj, local[v])
				h.ew = append(h.ew, g.ew[q])
			}
		}
		h.xadj = append(h.xadj, int64(len(h.adj)))
		h.vw = append(h.vw, g.vw[u])
		h.total += g.vw[u]
	}
	for s := range sub {
		if !want[s] {
			sub[s] = nil
			continue
		}
		sub[s].n = cnt[s]
	}
	return sub[0], sub[1], nodes[0], nodes[1]
}
