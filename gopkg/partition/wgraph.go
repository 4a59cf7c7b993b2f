package partition

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// wgraph is the internal symmetric weighted graph: no self-loops, no
// repeated neighbours, positive edge weights.
type wgraph struct {
	n     int
	xadj  []int64
	adj   []int32
	ew    []float64
	vw    []int64
	total int64
	// unit: every edge weight is exactly 1 (see markUnit), so loops may
	// count edges instead of summing ew; false is always safe.
	unit bool
}

// unitPaths enables the unit-weight loops; tests turn it off to check that
// they give exactly what the weighted loops give.
var unitPaths = true

// markUnit sets g.unit when every edge weight is exactly 1, as on the
// finest level of an unweighted input graph. Sums of unit weights are small
// integers, exact in float64, so counting edges gives bit-identical ratings.
func markUnit(g *wgraph) {
	g.unit = false
	if !unitPaths {
		return
	}
	for _, w := range g.ew {
		if w != 1 {
			g.unit = false
			return
		}
	}
	g.unit = true
}

// rowWeights returns the weights of u's edges, or nil when g has unit
// weights (each is then 1, and loops skip reading them).
func (g *wgraph) rowWeights(u int32) []float64 {
	if g.unit {
		return nil
	}
	return g.ew[g.xadj[u]:g.xadj[u+1]]
}

// fromCSR symmetrises g, drops self-loops and zero-weight edges and merges
// parallel edges. Once stop is stopped it returns a partial graph.
func fromCSR(g *graph.CSR, vw []int64, stop stopper) (*wgraph, error) {
	sym := symmetric(g, stop)
	if stop.stopped() {
		return nil, nil
	}
	if sym {
		return fromSymmetric(g, vw, stop), nil
	}
	return fromAny(g, vw, stop)
}

// fromAny is fromCSR for any graph: both directions of every entry are
// added, then repeated neighbours merged.
func fromAny(g *graph.CSR, vw []int64, stop stopper) (*wgraph, error) {
	tk := ticker{stop: stop}
	n := g.NumNodes
	xadj := make([]int64, n+1)
	var vs []int32
	var ws []float64
	var err error
	for u := 0; u < n; u++ {
		if tk.add(g.Indptr[u+1] - g.Indptr[u]) {
			return nil, nil
		}
		if vs, ws, err = entries(g, u, vs[:0], ws[:0]); err != nil {
			return nil, err
		}
		xadj[u+1] += int64(len(vs))
		for _, v := range vs {
			xadj[v+1]++
		}
	}
	for u := 0; u < n; u++ {
		xadj[u+1] += xadj[u]
	}
	m := xadj[n]
	radj := make([]int32, m)
	rw := make([]float64, m)
	cur := make([]int64, n)
	copy(cur, xadj[:n])
	for u := 0; u < n; u++ {
		if tk.add(g.Indptr[u+1] - g.Indptr[u]) {
			return nil, nil
		}
		vs, ws, _ = entries(g, u, vs[:0], ws[:0]) // checked in the first pass
		for i, v := range vs {
			radj[cur[u]], rw[cur[u]] = v, ws[i]
			cur[u]++
			radj[cur[v]], rw[cur[v]] = int32(u), ws[i]
			cur[v]++
		}
	}
	// Merge repeated neighbours in place, keeping first-occurrence order.
	marker := cur // reuse
	for i := range marker {
		marker[i] = -1
	}
	out := &wgraph{n: n, xadj: make([]int64, n+1), vw: vw}
	q := int64(0)
	for u := 0; u < n; u++ {
		if tk.add(g.Indptr[u+1] - g.Indptr[u]) {
			return nil, nil
		}
		start := q
		for p := xadj[u]; p < xadj[u+1]; p++ {
			v := radj[p]
			if at := marker[v]; at >= start {
				rw[at] += rw[p]
				continue
			}
			marker[v] = q
			radj[q], rw[q] = v, rw[p]
			q++
		}
		out.xadj[u+1] = q
	}
	out.adj = radj[:q:q]
	out.ew = rw[:q:q]
	for _, w := range vw {
		out.total += w
	}
	return out, nil
}

// symmetric reports whether every entry u→v of g (with its weight) is
// matched by an entry v→u of equal weight, counting repeats. It relies on
// the CSR invariant that rows are sorted: walking the rows in order, the
// entries that point at v arrive in ascending source order, which must be
// the order of row v itself, so one cursor per row suffices (O(entries)).
func symmetric(g *graph.CSR, stop stopper) bool {
	n := g.NumNodes
	pos := make([]int64, n)
	copy(pos, g.Indptr[:n])
	tk := ticker{stop: stop}
	for u := 0; u < n; u++ {
		if tk.add(g.Indptr[u+1] - g.Indptr[u]) {
			return false
		}
		for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
			v := g.Indices[p]
			if v < 0 || int(v) >= n {
				return false
			}
			q := pos[v]
			if q >= g.Indptr[v+1] || int(g.Indices[q]) != u {
				return false
			}
			if g.Weights != nil && g.Weights[q] != g.Weights[p] {
				return false
			}
			pos[v] = q + 1
		}
	}
	return true
}

// fromSymmetric is fromCSR for a graph that symmetric accepted: rows are
// copied without self-loops and zero-weight entries, repeated neighbours
// (adjacent, rows being sorted) merged. Each undirected edge keeps its
// weight once per direction, where the general path adds both directions
// (a uniform factor 2 that changes no decision).
func fromSymmetric(g *graph.CSR, vw []int64, stop stopper) *wgraph {
	n := g.NumNodes
	m := len(g.Indices)
	out := &wgraph{n: n, xadj: make([]int64, n+1), vw: vw}
	adj, ew := make([]int32, m), make([]float64, m)
	tk := ticker{stop: stop}
	at := int64(0)
	for u := 0; u < n; u++ {
		if tk.add(g.Indptr[u+1] - g.Indptr[u]) {
			return nil
		}
		at += copyRow(g, u, adj[at:], ew[at:])
		out.xadj[u+1] = at
	}
	out.adj, out.ew = adj[:at], ew[:at]
	for _, w := range vw {
		out.total += w
	}
	return out
}

// entries appends the entries of row u of g, without self-loops and
// zero-weight entries, to vs (neighbours) and ws (weights, 1 for an
// unweighted graph); a negative weight is an error.
func entries(g *graph.CSR, u int, vs []int32, ws []float64) ([]int32, []float64, error) {
	for p := g.Indptr[u]; p < g.Indptr[u+1]; p++ {
		v := g.Indices[p]
		if int(v) == u {
			continue
		}
		w := 1.0
		if g.Weights != nil {
			if g.Weights[p] < 0 {
				return nil, nil, fmt.Errorf("%w: partition: edge weight %d is negative: %v", graph.ErrValue, p, g.Weights[p])
			}
			w = float64(g.Weights[p])
			if w == 0 {
				continue
			}
		}
		vs, ws = append(vs, v), append(ws, w)
	}
	return vs, ws, nil
}

// copyRow writes row u of g (sorted) to adj and ew without self-loops and
// zero-weight entries, repeated neighbours (adjacent) merged by adding their
// weights, and returns the number of entries written.
func copyRow(g *graph.CSR, u int, adj []int32, ew []float64) int64 {
	at, last := -1, int32(-1)
	for q := g.Indptr[u]; q < g.Indptr[u+1]; q++ {
		v := g.Indices[q]
		w := 1.0
		if g.Weights != nil {
			w = float64(g.Weights[q])
		}
		if int(v) == u || w == 0 {
			continue
		}
		if v == last {
			ew[at] += w
			continue
		}
		at++
		adj[at], ew[at] = v, w
		last = v
	}
	return int64(at + 1)
}

// induce returns the subgraph of g induced by nodes; local maps global ids
// to local ids and must hold -1 for all nodes on entry (it is restored).
func induce(g *wgraph, nodes []int32, local []int32) *wgraph {
	for i, u := range nodes {
		local[u] = int32(i)
	}
	s := &wgraph{n: len(nodes), xadj: make([]int64, len(nodes)+1), vw: make([]int64, len(nodes)), unit: g.unit}
	for i, u := range nodes {
		s.vw[i] = g.vw[u]
		s.total += g.vw[u]
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			if l := local[g.adj[p]]; l >= 0 {
				s.adj = append(s.adj, l)
				s.ew = append(s.ew, g.ew[p])
			}
		}
		s.xadj[i+1] = int64(len(s.adj))
	}
	for _, u := range nodes {
		local[u] = -1
	}
	return s
}

// coarsen contracts a heavy-edge matching of g. cmap maps every node of g to
// its coarse node. Once stop is stopped it returns (nil, nil).
func coarsen(g *wgraph, maxVW int64, rng *rand.Rand, stop stopper) (*wgraph, []int32) {
	n := g.n
	match := make([]int32, n)
	for i := range match {
		match[i] = -1
	}
	perm := rng.Perm(n)
	pairs := 0
	tk := ticker{stop: stop}
	for _, u := range perm {
		if tk.add(2 * (g.xadj[u+1] - g.xadj[u])) {
			return nil, nil
		}
		if match[u] >= 0 {
			continue
		}
		// Edges much lighter than u's heaviest edge are not contracted:
		// merging across them would hide a cheap cut from later levels.
		mx := 0.0
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			mx = max(mx, g.ew[p])
		}
		best, bw := int32(-1), -1.0
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			v := g.adj[p]
			if match[v] >= 0 || g.vw[u]+g.vw[v] > maxVW || 8*g.ew[p] < mx {
				continue
			}
			if w := g.ew[p]; w > bw || (w == bw && g.vw[v] < g.vw[best]) {
				best, bw = v, w
			}
		}
		if best >= 0 {
			match[u], match[best] = best, int32(u)
			pairs++
		} else {
			match[u] = int32(u)
		}
	}
	if n-pairs > n*85/100 {
		// Stalling: pair leftovers sharing their heaviest neighbour, and
		// isolated nodes with each other.
		pending := make([]int32, n)
		for i := range pending {
			pending[i] = -1
		}
		iso := int32(-1)
		for _, u := range perm {
			if tk.add(g.xadj[u+1] - g.xadj[u]) {
				return nil, nil
			}
			if match[u] != int32(u) {
				continue
			}
			if g.xadj[u] == g.xadj[u+1] {
				if iso >= 0 && g.vw[iso]+g.vw[u] <= maxVW {
					match[u], match[iso] = iso, int32(u)
					iso = -1
				} else {
					iso = int32(u)
				}
				continue
			}
			h, hw := int32(-1), -1.0
			for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
				if g.ew[p] > hw {
					h, hw = g.adj[p], g.ew[p]
				}
			}
			if o := pending[h]; o >= 0 && match[o] == o && g.vw[o]+g.vw[u] <= maxVW {
				match[u], match[o] = o, int32(u)
				pending[h] = -1
			} else {
				pending[h] = int32(u)
			}
		}
	}
	cmap := make([]int32, n)
	for i := range cmap {
		cmap[i] = -1
	}
	nc := 0
	first := make([]int32, 0, n)
	for u := 0; u < n; u++ {
		if cmap[u] >= 0 {
			continue
		}
		cmap[u] = int32(nc)
		cmap[match[u]] = int32(nc)
		first = append(first, int32(u))
		nc++
	}
	cg := &wgraph{n: nc, xadj: make([]int64, nc+1), vw: make([]int64, nc), total: g.total}
	cg.adj = make([]int32, 0, len(g.adj))
	cg.ew = make([]float64, 0, len(g.adj))
	marker := make([]int64, nc)
	for i := range marker {
		marker[i] = -1
	}
	for c := 0; c < nc; c++ {
		u := first[c]
		if tk.add(g.xadj[u+1] - g.xadj[u] + g.xadj[match[u]+1] - g.xadj[match[u]]) {
			return nil, nil
		}
		start := int64(len(cg.adj))
		members := [2]int32{u, match[u]}
		cnt := 2
		if match[u] == u {
			cnt = 1
		}
		for _, m := range members[:cnt] {
			cg.vw[c] += g.vw[m]
			for p := g.xadj[m]; p < g.xadj[m+1]; p++ {
				cv := cmap[g.adj[p]]
				if int(cv) == c {
					continue
				}
				if at := marker[cv]; at >= start {
					cg.ew[at] += g.ew[p]
					continue
				}
				marker[cv] = int64(len(cg.adj))
				cg.adj = append(cg.adj, cv)
				cg.ew = append(cg.ew, g.ew[p])
			}
		}
		cg.xadj[c+1] = int64(len(cg.adj))
	}
	return cg, cmap
}

// cut returns the weighted cut of part on g (each edge once).
func cut(g *wgraph, part []int32) float64 {
	c := 0.0
	for u := 0; u < g.n; u++ {
		for p := g.xadj[u]; p < g.xadj[u+1]; p++ {
			if part[g.adj[p]] != part[u] {
				c += g.ew[p]
			}
		}
	}
	return c / 2
}

// newRand returns the random stream for (seed, stream).
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x6a09e667f3bcc909, stream*0x9e3779b97f4a7c15+0xbb67ae8584caa73b))
}

var negInf = math.Inf(-1)
