package partition

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/ibmb-dev/ibmb/internal/par"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// DefaultImbalance is the imbalance used when Options.Imbalance is 0.
const DefaultImbalance = 0.03

// Options configures Partition.
type Options struct {
	// Parts is the number of parts, at least 1.
	Parts int
	// NodeWeights holds one non-negative weight per node, or is nil, in
	// which case every node weighs 1.
	NodeWeights []int64
	// Imbalance bounds the heaviest part: its weight may be at most
	// (1+Imbalance)·total/Parts (see the package documentation for the
	// exact bound and its slack). 0 means DefaultImbalance; negative or NaN
	// values are errors.
	Imbalance float64
	// Seed selects the random choices; equal seeds give equal results.
	Seed uint64
	// Workers bounds the goroutines used; values ≤ 0 mean
	// runtime.GOMAXPROCS(0). The result does not depend on Workers.
	Workers int
	// Algorithm selects the scheme; the zero value is Deep.
	Algorithm Algorithm
}

// floorFrac is the share of the target weight below which k-way
// refinement does not take nodes out of a part (see minFloor).
const floorFrac = 0.9

// minFloor returns the weight floor of a part with the given target weight:
// ⌊min(floorFrac, 1/(1+eps))·target⌋.
func minFloor(target, eps float64) int64 {
	return int64(math.Floor(min(floorFrac, 1/(1+eps)) * target))
}

// initTries is the number of greedy-growing tries per bisection.
const initTries = 8

// Partition splits the undirected graph g into opt.Parts parts and returns
// the part of every node. See the package documentation for the algorithm,
// the balance guarantee and the treatment of edges. Invalid options or an
// invalid graph yield an error wrapping graph.ErrValue (graph.ErrIndex for
// out-of-range node ids).
func Partition(g *graph.CSR, opt Options) ([]int32, error) {
	return PartitionContext(context.Background(), g, opt)
}

// PartitionContext is Partition stopping early when ctx is cancelled: every
// phase (conversion, coarsening, initial partitioning, balancing and
// refinement, on every level) looks at ctx after a bounded amount of work,
// so the call returns within milliseconds, its goroutines finished, with an
// error wrapping ctx.Err() and no partition. Invalid input is reported
// first. A call that is not cancelled returns exactly what Partition
// returns.
func PartitionContext(ctx context.Context, g *graph.CSR, opt Options) (parts []int32, err error) {
	if g == nil {
		return nil, fmt.Errorf("%w: partition: graph is nil", graph.ErrValue)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("partition: invalid graph: %w", err)
	}
	for p, w := range g.Weights {
		if w < 0 {
			return nil, fmt.Errorf("%w: partition: edge weight %d is negative: %v", graph.ErrValue, p, w)
		}
	}
	n, k := g.NumNodes, opt.Parts
	if k < 1 {
		return nil, fmt.Errorf("%w: partition: parts must be >= 1, got %d", graph.ErrValue, k)
	}
	if k > math.MaxInt32 {
		return nil, fmt.Errorf("%w: partition: parts %d exceeds the int32 range", graph.ErrValue, k)
	}
	eps := opt.Imbalance
	if math.IsNaN(eps) || eps < 0 || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("%w: partition: imbalance must be finite and >= 0, got %v", graph.ErrValue, eps)
	}
	if eps == 0 {
		eps = DefaultImbalance
	}
	if opt.Algorithm != Deep && opt.Algorithm != HeavyEdge {
		return nil, fmt.Errorf("%w: partition: unknown algorithm %v", graph.ErrValue, opt.Algorithm)
	}
	vw := opt.NodeWeights
	if vw != nil {
		if len(vw) != n {
			return nil, fmt.Errorf("%w: partition: node_weights has length %d but the graph has %d nodes", graph.ErrValue, len(vw), n)
		}
		total := int64(0)
		for i, w := range vw {
			if w < 0 {
				return nil, fmt.Errorf("%w: partition: node_weights[%d] is negative: %d", graph.ErrValue, i, w)
			}
			if total > math.MaxInt64-w {
				return nil, fmt.Errorf("%w: partition: total node weight overflows int64", graph.ErrValue)
			}
			total += w
		}
		vw = append([]int64(nil), vw...)
	} else {
		vw = make([]int64, n)
		for i := range vw {
			vw[i] = 1
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	stop := stopper{done: ctx.Done()}
	defer func() {
		// A cancellation seen by any loop leaves a partial result behind:
		// report the cancellation instead.
		if err == nil && stop.stopped() {
			parts, err = nil, fmt.Errorf("partition: %w", ctx.Err())
		}
	}()
	out := make([]int32, n)
	if k == 1 || n == 0 {
		return out, nil
	}
	if k >= n {
		for i := range out {
			out[i] = int32(i)
		}
		return out, nil
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if opt.Algorithm == Deep {
		out, derr := partitionDeep(ctx, g, vw, k, eps, opt.Seed, workers)
		if derr != nil {
			return nil, fmt.Errorf("partition: %w", derr)
		}
		return out, nil
	}
	wg, err := fromCSR(g, vw, stop)
	if err != nil || stop.stopped() {
		return nil, err
	}
	s := &state{seed: opt.Seed, eps: eps, workers: workers, stop: stop}
	return s.multilevel(wg, k), nil
}

// state carries the per-call settings.
type state struct {
	seed    uint64
	eps     float64
	workers int
	stop    stopper
}

// limit returns the weight limit of a part whose target weight is target:
// ⌊(1+eps)·target⌋, but at least ⌈target⌉.
func limit(total float64, eps float64) int64 {
	l := int64(math.Floor((1 + eps) * total))
	if c := int64(math.Ceil(total)); l < c {
		l = c
	}
	return l
}

func (s *state) multilevel(g *wgraph, k int) []int32 {
	coarsenTo := max(20*k, 200)
	capVW := int64(1.5 * float64(g.total) / float64(coarsenTo))
	levels, cmaps := s.coarsenLevels(g, coarsenTo, max(capVW, 1), func(level int) uint64 { return uint64(level) })
	if s.stop.stopped() {
		return nil
	}
	coarsest := levels[len(levels)-1]
	part := make([]int32, coarsest.n)
	local := make([]int32, coarsest.n)
	for i := range local {
		local[i] = -1
	}
	ids := make([]int32, coarsest.n)
	for i := range ids {
		ids[i] = int32(i)
	}
	s.recursiveBisect(coarsest, ids, k, 0, part, 1, local)
	if s.stop.stopped() {
		return nil
	}

	maxW := make([]int64, k)
	lw := limit(float64(g.total)/float64(k), s.eps)
	minW := make([]int64, k)
	fl := minFloor(float64(g.total)/float64(k), s.eps)
	for b := range maxW {
		maxW[b] = lw
		minW[b] = fl
	}
	for lv := len(levels) - 1; ; lv-- {
		lg := levels[lv]
		r := newRefiner(lg, part, k, maxW, newRand(s.seed, 1<<40+uint64(lv)), s.stop)
		r.minW = minW
		r.balance()
		r.refine(4)
		if s.stop.stopped() {
			return nil
		}
		if lv == 0 {
			break
		}
		fine := make([]int32, levels[lv-1].n)
		tk := ticker{stop: s.stop}
		for u, c := range cmaps[lv-1] {
			if tk.add(0) {
				return nil
			}
			fine[u] = part[c]
		}
		part = fine
	}
	return part
}

// coarsenLevels contracts g by heavy-edge matching (merged nodes weigh at
// most capVW) until it has at most target nodes, a level shrinks it by less
// than 5% or 64 levels exist. levels[0] is g; cmaps[i] maps the nodes of
// levels[i] to those of levels[i+1]. Level i draws its random choices from
// stream stream(i).
func (s *state) coarsenLevels(g *wgraph, target int, capVW int64, stream func(level int) uint64) ([]*wgraph, [][]int32) {
	levels := []*wgraph{g}
	var cmaps [][]int32
	for cur := g; cur.n > target && len(levels) < 64; {
		cg, cmap := coarsen(cur, capVW, newRand(s.seed, stream(len(levels))), s.stop)
		if s.stop.stopped() || cg.n == cur.n {
			break
		}
		levels = append(levels, cg)
		cmaps = append(cmaps, cmap)
		if float64(cg.n) > 0.95*float64(cur.n) {
			break
		}
		cur = cg
	}
	return levels, cmaps
}

// recursiveBisect assigns parts first … first+k-1 to the nodes of g (whose
// ids in the coarsest graph are ids), writing into out. path numbers the
// recursion node for seeding.
func (s *state) recursiveBisect(g *wgraph, ids []int32, k int, first int32, out []int32, path uint64, local []int32) {
	if s.stop.stopped() {
		return
	}
	if k == 1 {
		for _, id := range ids {
			out[id] = first
		}
		return
	}
	if g.n <= k {
		for i, id := range ids {
			out[id] = first + int32(i)
		}
		return
	}
	k0 := k / 2
	frac := float64(k0) / float64(k)
	side := s.multilevelBisect(g, frac, path)
	if s.stop.stopped() {
		return
	}
	ensureCounts(g, side, k0, k-k0, s.stop)
	if s.stop.stopped() {
		return
	}
	var n0, n1 []int32
	var id0, id1 []int32
	for u, sd := range side {
		if sd == 0 {
			n0 = append(n0, int32(u))
			id0 = append(id0, ids[u])
		} else {
			n1 = append(n1, int32(u))
			id1 = append(id1, ids[u])
		}
	}
	g0 := induce(g, n0, local[:g.n])
	g1 := induce(g, n1, local[:g.n])
	if s.stop.stopped() {
		return
	}
	s.recursiveBisect(g0, id0, k0, first, out, 2*path, local)
	s.recursiveBisect(g1, id1, k-k0, first+int32(k0), out, 2*path+1, local)
}

// bisectCoarsenTo is the size below which multilevelBisect stops coarsening.
const bisectCoarsenTo = 100

// multilevelBisect splits g into sides 0 and 1, side 0 getting the share
// frac of the weight: it coarsens g, bisects the coarsest graph with
// bestBisection and refines the bisection on every level back up.
func (s *state) multilevelBisect(g *wgraph, frac float64, path uint64) []int32 {
	capVW := max(int64(1.5*float64(g.total)/bisectCoarsenTo), 1)
	levels, cmaps := s.coarsenLevels(g, bisectCoarsenTo, capVW,
		func(level int) uint64 { return path<<8 | uint64(level) + 2<<50 })
	if s.stop.stopped() {
		return nil
	}
	side := s.bestBisection(levels[len(levels)-1], frac, path)
	if s.stop.stopped() {
		return nil
	}
	t0 := float64(g.total) * frac
	maxW := []int64{limit(t0, s.eps), limit(float64(g.total)-t0, s.eps)}
	for lv := len(levels) - 2; lv >= 0; lv-- {
		fine := make([]int32, levels[lv].n)
		for u, c := range cmaps[lv] {
			fine[u] = side[c]
		}
		side = fine
		r := newRefiner(levels[lv], side, 2, maxW, newRand(s.seed, path<<8|uint64(lv)+3<<50), s.stop)
		r.balance()
		r.refine(8)
		if s.stop.stopped() {
			return nil
		}
	}
	return side
}

// bestBisection runs initTries greedy-growing bisections in parallel and
// returns the best: balanced first, then fewest cut, then lowest try index.
func (s *state) bestBisection(g *wgraph, frac float64, path uint64) []int32 {
	t0 := float64(g.total) * frac
	maxW := []int64{limit(t0, s.eps), limit(float64(g.total)-t0, s.eps)}
	type result struct {
		side []int32
		cut  float64
		ok   bool
	}
	res := make([]result, initTries)
	run := func(t int) {
		if s.stop.stopped() {
			return
		}
		side, ok := growBisection(g, t0, maxW, newRand(s.seed, path<<8|uint64(t)+1<<50), s.stop)
		res[t] = result{side, cut(g, side), ok}
	}
	w := min(s.workers, initTries)
	if g.n < 64 {
		w = 1
	}
	if w <= 1 {
		for t := 0; t < initTries; t++ {
			run(t)
		}
	} else {
		par.For(initTries, w, 1, nil, func(_, t, _ int) bool { run(t); return true })
	}
	if s.stop.stopped() {
		return nil
	}
	best := 0
	for t := 1; t < initTries; t++ {
		a, b := res[t], res[best]
		if (a.ok && !b.ok) || (a.ok == b.ok && a.cut < b.cut) {
			best = t
		}
	}
	return res[best].side
}

// growBisection grows side 0 from random seeds up to weight t0, then
// balances and refines. It reports whether the limits are met.
func growBisection(g *wgraph, t0 float64, maxW []int64, r0 *rand.Rand, stop stopper) ([]int32, bool) {
	side := make([]int32, g.n)
	for i := range side {
		side[i] = 1
	}
	// d[u]: cut reduction of moving u from side 1 to side 0.
	d := make([]float64, g.n)
	for u := 0; u < g.n; u++ {
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			d[u] -= g.ew[p]
		}
	}
	ver := make([]uint32, g.n)
	perm := r0.Perm(g.n)
	next := 0
	var h pq
	w0 := int64(0)
	tk := ticker{stop: stop}
	for float64(w0) < t0 {
		if tk.add(popCost) {
			return side, false
		}
		if len(h) == 0 {
			for next < len(perm) && side[perm[next]] == 0 {
				next++
			}
			if next == len(perm) {
				break
			}
			u := perm[next]
			next++
			h.push(item{gain: d[u], tie: r0.Uint32(), ver: ver[u], node: int32(u)})
		}
		it := h.pop()
		u := int(it.node)
		if side[u] == 0 || it.ver != ver[u] {
			continue
		}
		if w0+g.vw[u] > maxW[0] {
			ver[u]++ // drop it
			continue
		}
		side[u] = 0
		w0 += g.vw[u]
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			v := g.adj[p]
			if side[v] == 0 {
				continue
			}
			d[v] += 2 * g.ew[p]
			ver[v]++
			h.push(item{gain: d[v], tie: r0.Uint32(), ver: ver[v], node: v})
		}
		tk.spend(g.xadj[u+1] - g.xadj[u])
	}
	r := newRefiner(g, side, 2, maxW, r0, stop)
	r.balance()
	r.refine(8)
	return side, !r.overweight()
}

// ensureCounts makes side 0 hold at least c0 nodes and side 1 at least c1
// (g.n ≥ c0+c1 is assumed), so that recursive bisection can give every part
// a node. It moves the lightest nodes of the other side, preferring those
// with the largest connectivity to the receiving side.
func ensureCounts(g *wgraph, side []int32, c0, c1 int, stop stopper) {
	cnt := [2]int{}
	for _, sd := range side {
		cnt[sd]++
	}
	for to := int32(0); to < 2; to++ {
		need := []int{c0, c1}[to] - cnt[to]
		for ; need > 0; need-- {
			if stop.stopped() {
				return
			}
			best, bw, bc := -1, int64(0), 0.0
			for u := 0; u < g.n; u++ {
				if side[u] == to {
					continue
				}
				c := 0.0
				for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
					if side[g.adj[p]] == to {
						c += g.ew[p]
					}
				}
				if best < 0 || g.vw[u] < bw || (g.vw[u] == bw && c > bc) {
					best, bw, bc = u, g.vw[u], c
				}
			}
			side[best] = to
			cnt[to]++
			cnt[1-to]--
		}
	}
}
