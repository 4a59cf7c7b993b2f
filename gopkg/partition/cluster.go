package partition

// scratch is one goroutine's working memory: a dense map from cluster or
// block ids to accumulated edge weight (all zero between uses) and the list
// of ids touched.
type scratch struct {
	rating  []float64
	touched []int32
	// blocked: the last kway.bestMove found a better block that was full.
	blocked bool
	// cands and rats: the clusters gathered by gather and their weights;
	// hk and hv: its small hash table (keys -1 when free).
	cands []int32
	rats  []float64
	hk    []int32
	hv    []float64
	// count: gather's dense map for graphs with unit edge weights (edge
	// counts; all zero between uses), half the size of rating.
	count []int32
}

// ensure makes the rating map hold at least n entries.
func (s *scratch) ensure(n int) {
	if len(s.rating) < n {
		s.rating = make([]float64, n)
	}
}

// lpChunk is the number of nodes a goroutine takes at a time in the
// parallel phases of label propagation; lpSubChunk within a sub-round.
// maxSubRounds bounds the sub-rounds of a clustering round: on large
// graphs sub-rounds hold n/maxSubRounds nodes, enough work to spread over
// goroutines, and as large a share of the graph as 256 nodes are of a
// graph of 64k nodes.
const (
	lpChunk      = 512
	lpSubChunk   = 64
	maxSubRounds = 256
)

// lpClusterConfig sets how lpCluster runs.
type lpClusterConfig struct {
	rounds int
	// subRound > 0: every round is split into sub-rounds of that many
	// nodes (at least n/maxSubRounds); the nodes of a sub-round choose
	// their clusters in parallel
	// against the state at its start, and the choices are then applied in
	// visiting order where the weight cap still allows. 0: sequential label
	// propagation, every move applied at once.
	subRound int
	seed     uint64
}

// lpCluster computes a size-constrained label-propagation clustering of g:
// every node starts in its own cluster, then, for cfg.rounds rounds in the
// given visiting order, joins the neighbouring cluster it is most strongly
// connected to if that is strictly stronger than its own and the joined
// cluster stays within maxCW. After the second round only nodes next to a
// node that moved in the round before are visited again. If the clusters still number more
// than half the nodes, nodes left alone are grouped (up to maxCW) with other
// lone nodes that favour the same neighbouring cluster, and isolated nodes
// with each other (two-hop clustering: stars and hubs would stall
// coarsening otherwise). It returns a cluster label (a node id) per node.
func lpCluster(p *pool, sc []*scratch, g *wgraph, order []int32, maxCW int64, cfg lpClusterConfig) ([]int32, error) {
	n := g.n
	cluster := make([]int32, n)
	cw := make([]int64, n)
	csize := make([]int32, n)
	fav := make([]int32, n)
	active := make([]bool, n)
	for u := range cluster {
		cluster[u] = int32(u)
		cw[u] = g.vw[u]
		csize[u] = 1
		fav[u] = -1
		active[u] = true
	}
	for _, s := range sc {
		s.ensure(n)
	}
	var prop []int32
	if cfg.subRound > 0 {
		prop = make([]int32, n)
	}
	round := 0
	var team *spinTeam
	join := func(u, t int32) {
		c, w := cluster[u], g.vw[u]
		cw[c] -= w
		csize[c]--
		cw[t] += w
		csize[t]++
		cluster[u] = t
		if round > 0 {
			for _, v := range g.adj[g.xadj[u]:g.xadj[u+1]] {
				active[v] = true
			}
		}
	}
	for ; round < cfg.rounds; round++ {
		if round == 1 {
			// Most nodes moved in the first round; rather than marking
			// their neighbours one by one, visit every node again.
			for u := range active {
				active[u] = true
			}
		}
		salt := mix(cfg.seed ^ uint64(round+1)*0x9e3779b97f4a7c15)
		moved := 0
		if cfg.subRound == 0 {
			s := sc[0]
			for i, u := range order {
				if i&4095 == 4095 {
					if err := p.cancelled(); err != nil {
						return nil, err
					}
				}
				if !active[u] {
					continue
				}
				active[u] = false
				t, f := clusterMove(g, cluster, cw, maxCW, s, u, salt)
				fav[u] = f
				if t >= 0 {
					join(u, t)
					moved++
				}
			}
		} else {
			sub := max(cfg.subRound, n/maxSubRounds)
			for lo := 0; lo < n; lo += sub {
				slice := order[lo:min(n, lo+sub)]
				work := int64(len(slice)) * int64(len(g.adj)) / int64(n)
				if team == nil && p.workers > 1 && work < minParallelWork && len(g.adj) >= teamMinWork {
					// Sub-rounds too small for forChunks on a graph
					// large enough to keep helpers spinning for.
					team = newSpinTeam(p)
					defer team.stop()
				}
				run := func(fn func(w, lo, hi int)) error {
					if team != nil {
						return team.run(len(slice), lpSubChunk, fn)
					}
					return p.forChunksWork(len(slice), lpSubChunk, work, fn)
				}
				err := run(func(w, a, b int) {
					s := sc[w]
					for _, u := range slice[a:b] {
						prop[u] = -1
						if !active[u] {
							continue
						}
						active[u] = false
						prop[u], fav[u] = clusterMove(g, cluster, cw, maxCW, s, u, salt)
					}
				})
				if err != nil {
					return nil, err
				}
				for _, u := range slice {
					if t := prop[u]; t >= 0 && cw[t]+g.vw[u] <= maxCW {
						join(u, t)
						moved++
					}
				}
			}
		}
		if moved <= n/200 {
			break
		}
	}
	if team != nil {
		team.stop() // before the two-hop grouping, which is sequential
	}
	clusters := 0
	for _, s := range csize {
		if s > 0 {
			clusters++
		}
	}
	if 2*clusters > n {
		twoHop(g, cluster, cw, csize, fav, maxCW)
	}
	if err := p.cancelled(); err != nil {
		return nil, err
	}
	return cluster, nil
}

// Ratings of a node of degree at most smallDeg in a graph of more than
// denseNodes nodes are gathered in a small open-addressing table that stays
// in the first-level cache, rather than in the dense map over all clusters,
// whose random accesses miss the caches on large graphs.
const (
	smallDeg   = 64
	denseNodes = 1 << 16
	smallCap   = 2 * smallDeg
)

// gather accumulates the weight of u's edges into every neighbouring
// cluster and lists the clusters in s.cands with their weights in s.rats
// (in order of first appearance), returning the weight into u's own
// cluster.
func (s *scratch) gather(g *wgraph, cluster []int32, u int32) float64 {
	adj, ew := g.adj[g.xadj[u]:g.xadj[u+1]], g.ew[g.xadj[u]:g.xadj[u+1]]
	cands, rats := s.cands[:0], s.rats[:0]
	cur := cluster[u]
	own := 0.0
	if g.unit && (g.n <= denseNodes || len(adj) > smallDeg) {
		// Unit weights: count edges per cluster in int32 (a quarter of the
		// cache footprint of rating plus ew), listing a cluster when its
		// count leaves 0 without a branch (cands has room for every edge).
		if len(s.count) < g.n {
			s.count = make([]int32, g.n)
		}
		count := s.count
		if cap(cands) < len(adj) {
			cands = make([]int32, 0, len(adj))
		}
		cands = cands[:len(adj)]
		k := 0
		for _, v := range adj {
			c := cluster[v]
			old := count[c]
			count[c] = old + 1
			cands[k] = c
			k += int(uint32(old-1) >> 31) // 1 if old == 0 (counts are ≥ 0)
		}
		cands = cands[:k]
		for _, c := range cands {
			rats = append(rats, float64(count[c]))
			count[c] = 0
		}
	} else if g.n <= denseNodes || len(adj) > smallDeg {
		rating := s.rating
		for i, v := range adj {
			c := cluster[v]
			if rating[c] == 0 {
				cands = append(cands, c)
			}
			rating[c] += ew[i]
		}
		for _, c := range cands {
			rats = append(rats, rating[c])
			rating[c] = 0
		}
	} else {
		if s.hk == nil {
			s.hk, s.hv = make([]int32, smallCap), make([]float64, smallCap)
			for i := range s.hk {
				s.hk[i] = -1
			}
		}
		bits := 4
		for 1<<bits < 2*len(adj) {
			bits++
		}
		hk, hv, mask := s.hk[:1<<bits], s.hv[:1<<bits], 1<<bits-1
		slots := s.touched[:0]
		for i, v := range adj {
			c := cluster[v]
			h := int(uint32(c)*0x9e3779b1>>(32-bits)) & mask
			for hk[h] != c && hk[h] >= 0 {
				h = (h + 1) & mask
			}
			if hk[h] < 0 {
				hk[h], hv[h] = c, 0
				slots = append(slots, int32(h))
			}
			hv[h] += ew[i]
		}
		for _, h := range slots {
			cands = append(cands, hk[h])
			rats = append(rats, hv[h])
			hk[h] = -1
		}
		s.touched = slots
	}
	for i, c := range cands {
		if c == cur {
			own = rats[i]
		}
	}
	s.cands, s.rats = cands, rats
	return own
}

// clusterMove returns the cluster u should join (-1: stay) and the cluster
// it is most strongly connected to ignoring the weight cap (-1: none).
// Ties are broken by a hash of (salt, u, cluster).
func clusterMove(g *wgraph, cluster []int32, cw []int64, maxCW int64, s *scratch, u int32, salt uint64) (int32, int32) {
	own := s.gather(g, cluster, u)
	cur := cluster[u]
	w := g.vw[u]
	best, bestR, bestH := cur, own, uint64(0)
	fav, favR, favH := int32(-1), 0.0, uint64(0)
	key := salt ^ uint64(u)<<32
	for i, c := range s.cands {
		r := s.rats[i]
		if c == cur || (r < favR && r < bestR) {
			continue
		}
		h := mix(key ^ uint64(uint32(c)))
		if r > favR || (r == favR && h > favH) {
			fav, favR, favH = c, r, h
		}
		// The cap is checked last: cw[c] is a cache miss on large graphs.
		if (r > bestR || (r == bestR && best != cur && h > bestH)) && cw[c]+w <= maxCW {
			best, bestR, bestH = c, r, h
		}
	}
	if best == cur {
		return -1, fav
	}
	return best, fav
}

// twoHop groups lone nodes (clusters of one) in id order: a lone node joins
// the open group of the cluster it favours (isolated nodes: the open group
// of isolated nodes) if the group stays within maxCW, and otherwise opens a
// new group for that key.
func twoHop(g *wgraph, cluster []int32, cw []int64, csize []int32, fav []int32, maxCW int64) {
	open := make([]int32, g.n)
	for i := range open {
		open[i] = -1
	}
	iso := int32(-1)
	for u := 0; u < g.n; u++ {
		c := cluster[u]
		if csize[c] != 1 {
			continue
		}
		var slot *int32
		switch {
		case g.xadj[u] == g.xadj[u+1]:
			slot = &iso
		case fav[u] >= 0:
			slot = &open[fav[u]]
		default:
			continue
		}
		l, w := *slot, g.vw[u]
		if l >= 0 && l != c && cw[l]+w <= maxCW {
			cw[c] -= w
			csize[c]--
			cw[l] += w
			csize[l]++
			cluster[u] = l
		} else {
			*slot = c
		}
	}
}
