package partition

import (
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// buildChunk is the number of rows a goroutine takes at a time when the
// deep scheme builds its internal graph.
const buildChunk = 4096

// buildGraph is fromCSR on p's goroutines: it gives the same graph, but
// checks symmetry and copies the rows of a symmetric graph in parallel
// (the general path, for graphs that are not symmetric, is fromAny).
func buildGraph(p *pool, g *graph.CSR, vw []int64) (*wgraph, error) {
	sym, err := symmetricPar(p, g)
	if err != nil {
		return nil, err
	}
	if !sym {
		return fromAny(g, vw, p.stopper())
	}
	n := g.NumNodes
	out := &wgraph{n: n, xadj: make([]int64, n+1), vw: vw}
	// Row lengths after dropping self-loops and zero weights and merging
	// repeated neighbours (adjacent, rows being sorted).
	err = p.forChunks(n, buildChunk, func(_, lo, hi int) {
		for u := lo; u < hi; u++ {
			c, last := int64(0), int32(-1)
			for q := g.Indptr[u]; q < g.Indptr[u+1]; q++ {
				v := g.Indices[q]
				if int(v) == u || (g.Weights != nil && g.Weights[q] == 0) || v == last {
					continue
				}
				last = v
				c++
			}
			out.xadj[u+1] = c
		}
	})
	if err != nil {
		return nil, err
	}
	for u := 0; u < n; u++ {
		out.xadj[u+1] += out.xadj[u]
	}
	m := out.xadj[n]
	out.adj, out.ew = make([]int32, m), make([]float64, m)
	err = p.forChunks(n, buildChunk, func(_, lo, hi int) {
		for u := lo; u < hi; u++ {
			copyRow(g, u, out.adj[out.xadj[u]:], out.ew[out.xadj[u]:])
		}
	})
	if err != nil {
		return nil, err
	}
	for _, w := range vw {
		out.total += w
	}
	return out, nil
}

// symmetricPar is symmetric on p's goroutines, looking at every edge from
// one side only. The rows are cut into one range per goroutine (by entry
// counts); the goroutine of range [a, b) checks that its rows hold valid
// node ids, then walks the rows u < b in order and, for their entries u→v
// with u < v and v in [a, b) (found by binary search, rows being sorted),
// runs symmetric's cursor walk over the entries of row v below v: those
// must be exactly the u < v that point at v, in ascending order (with the
// same weights). Self-loops are symmetric by themselves. That visits half
// the entries of symmetric's walk, whose random accesses dominate its cost.
func symmetricPar(p *pool, g *graph.CSR) (bool, error) {
	n := g.NumNodes
	r := max(1, min(p.workers, n/buildChunk))
	bounds := make([]int32, r+1)
	for t := 1; t < r; t++ {
		// The first row whose start is past t/r of the entries.
		target := g.Indptr[n] * int64(t) / int64(r)
		lo, hi := 0, n
		for lo < hi {
			m := (lo + hi) / 2
			if g.Indptr[m] < target {
				lo = m + 1
			} else {
				hi = m
			}
		}
		bounds[t] = int32(max(lo, int(bounds[t-1])))
	}
	bounds[r] = int32(n)
	bad := make([]bool, r)
	err := p.forTasks(r, func(_, t int) {
		a, b := bounds[t], bounds[t+1]
		for v := a; v < b; v++ {
			row := g.Indices[g.Indptr[v]:g.Indptr[v+1]]
			if len(row) > 0 && (row[0] < 0 || int(row[len(row)-1]) >= n) {
				bad[t] = true
				return
			}
		}
		cur := make([]int64, b-a)
		copy(cur, g.Indptr[a:b])
		for u := int32(0); u+1 < b; u++ {
			if u&4095 == 4095 && p.cancelled() != nil {
				return
			}
			row := g.Indices[g.Indptr[u]:g.Indptr[u+1]]
			q := g.Indptr[u] + int64(lowerBound(row, max(a, u+1)))
			for ; q < g.Indptr[u+1] && g.Indices[q] < b; q++ {
				v := g.Indices[q]
				c := cur[v-a]
				if c >= g.Indptr[v+1] || g.Indices[c] != u || (g.Weights != nil && g.Weights[c] != g.Weights[q]) {
					bad[t] = true
					return
				}
				cur[v-a] = c + 1
			}
		}
		// Every entry of the range's rows below the diagonal must have
		// been met.
		for v := a; v < b; v++ {
			row := g.Indices[g.Indptr[v]:g.Indptr[v+1]]
			if cur[v-a] != g.Indptr[v]+int64(lowerBound(row, v)) {
				bad[t] = true
				return
			}
		}
	})
	if err != nil {
		return false, err
	}
	for _, x := range bad {
		if x {
			return false, nil
		}
	}
	return true, nil
}

// lowerBound returns the index of the first element of the sorted slice s
// that is ≥ x.
func lowerBound(s []int32, x int32) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
