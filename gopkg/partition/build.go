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
		return fromAny(g, vw)
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
			at, last := out.xadj[u]-1, int32(-1)
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
					out.ew[at] += w
					continue
				}
				at++
				out.adj[at], out.ew[at] = v, w
				last = v
			}
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

// symmetricPar is symmetric on p's goroutines: for every run of equal
// entries u→v in row u it finds the run of entries v→u in row v by binary
// search (rows are sorted) and compares lengths and weights pairwise.
func symmetricPar(p *pool, g *graph.CSR) (bool, error) {
	n := g.NumNodes
	chunks := (n + buildChunk - 1) / buildChunk
	bad := make([]bool, chunks)
	err := p.forChunks(n, buildChunk, func(_, lo, hi int) {
		for u := lo; u < hi; u++ {
			row := g.Indices[g.Indptr[u]:g.Indptr[u+1]]
			for i := 0; i < len(row); {
				v := row[i]
				j := i + 1
				for j < len(row) && row[j] == v {
					j++
				}
				if v < 0 || int(v) >= n {
					bad[lo/buildChunk] = true
					return
				}
				vrow := g.Indices[g.Indptr[v]:g.Indptr[v+1]]
				a, b := runOf(vrow, int32(u))
				if b-a != j-i {
					bad[lo/buildChunk] = true
					return
				}
				if g.Weights != nil {
					wu := g.Weights[g.Indptr[u]+int64(i) : g.Indptr[u]+int64(j)]
					wv := g.Weights[g.Indptr[v]+int64(a) : g.Indptr[v]+int64(b)]
					for t := range wu {
						if wu[t] != wv[t] {
							bad[lo/buildChunk] = true
							return
						}
					}
				}
				i = j
			}
		}
	})
	if err != nil {
		return false, err
	}
	for _, b := range bad {
		if b {
			return false, nil
		}
	}
	return true, nil
}

// runOf returns the bounds [a, b) of the entries equal to x in the sorted
// slice s.
func runOf(s []int32, x int32) (int, int) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	b := lo
	for b < len(s) && s[b] == x {
		b++
	}
	return lo, b
}
