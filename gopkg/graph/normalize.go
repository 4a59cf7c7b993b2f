package graph

import (
	"math"
	"runtime"
	"strconv"
	"strings"
)

// Norm selects how edge weights are normalised by node degrees.
type Norm int

const (
	// NormNone keeps the weights as they are (1 for an unweighted graph).
	NormNone Norm = iota
	// NormRow is random-walk normalisation D⁻¹A: w_uv = a_uv / d_u, so
	// that every non-empty row sums to 1.
	NormRow
	// NormSym is symmetric normalisation D^-½ A D^-½:
	// w_uv = a_uv / sqrt(d_u · d_v), as used by GCN.
	NormSym
)

// String returns the canonical name of n, the one ParseNorm prefers.
func (n Norm) String() string {
	switch n {
	case NormNone:
		return "none"
	case NormRow:
		return "rw"
	case NormSym:
		return "sym"
	}
	return "Norm(" + strconv.Itoa(int(n)) + ")"
}

// ParseNorm converts a name to a Norm: "none", "rw" or "row", and "sym".
// Case and surrounding spaces are ignored. Any other name yields an error
// wrapping ErrValue.
func ParseNorm(s string) (Norm, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none":
		return NormNone, nil
	case "rw", "row":
		return NormRow, nil
	case "sym":
		return NormSym, nil
	}
	return 0, valueErrorf("unknown normalization %q: want \"none\", \"rw\", \"row\" or \"sym\"", s)
}

// Normalized returns per-edge weights aligned with g.Indices under the
// normalisation n. The degree d_u of a node is its out-degree, that is the
// row sum of the adjacency: the number of entries of row u for an unweighted
// graph, the sum of its weights otherwise (parallel edges and self-loops
// count like any other entry). Arithmetic is done in float64 and rounded to
// float32 once per edge.
//
// A node of degree 0 never causes a division: its inverse degree is taken as
// 0 (as PyTorch Geometric does), so under NormSym an edge u→v into a node v
// without out-edges gets weight 0, and a weighted row whose weights sum to 0
// gets all-zero weights under NormRow.
//
// An unknown n, a CSR whose array lengths disagree, or, for NormSym, a node
// whose weighted degree is negative (its square root is undefined) yields an
// error wrapping ErrValue; a column id out of range met under NormSym yields
// one wrapping ErrIndex.
func (g *CSR) Normalized(n Norm) ([]float32, error) {
	if n != NormNone && n != NormRow && n != NormSym {
		return nil, valueErrorf("unknown normalization %v", n)
	}
	if err := g.checkShape(); err != nil {
		return nil, err
	}
	out := make([]float32, len(g.Indices))
	if n == NormNone {
		if g.Weights == nil {
			for i := range out {
				out[i] = 1
			}
		} else {
			copy(out, g.Weights)
		}
		return out, nil
	}

	workers := 1
	if len(g.Indices) >= parallelMinEdges {
		workers = runtime.GOMAXPROCS(0)
	}
	nodes := g.NumNodes

	// inv[u] = 1/d_u (NormRow) or 1/sqrt(d_u) (NormSym), 0 when d_u = 0.
	inv := make([]float64, nodes)
	negative := make([]int, workers)
	parallelChunks(nodes, workers, func(w, lo, hi int) {
		negative[w] = -1
		for u := lo; u < hi; u++ {
			a, b := g.Indptr[u], g.Indptr[u+1]
			var d float64
			if g.Weights == nil {
				d = float64(b - a)
			} else {
				for _, x := range g.Weights[a:b] {
					d += float64(x)
				}
			}
			switch {
			case d == 0:
				inv[u] = 0
			case n == NormRow:
				inv[u] = 1 / d
			case d < 0:
				if negative[w] < 0 {
					negative[w] = u
				}
			default:
				inv[u] = 1 / math.Sqrt(d)
			}
		}
	})
	for _, u := range negative {
		if u >= 0 {
			a, b := g.Indptr[u], g.Indptr[u+1]
			var d float64
			for _, x := range g.Weights[a:b] {
				d += float64(x)
			}
			return nil, valueErrorf("node %d has negative weighted degree %g; sym normalization needs non-negative degrees", u, d)
		}
	}

	badCol := make([]int64, workers)
	parallelChunks(nodes, workers, func(w, lo, hi int) {
		badCol[w] = -1
		for u := lo; u < hi; u++ {
			a, b := g.Indptr[u], g.Indptr[u+1]
			iu := inv[u]
			for p := a; p < b; p++ {
				x := 1.0
				if g.Weights != nil {
					x = float64(g.Weights[p])
				}
				if n == NormRow {
					out[p] = float32(x * iu)
					continue
				}
				v := g.Indices[p]
				if v < 0 || int(v) >= nodes {
					badCol[w] = p
					return
				}
				out[p] = float32(x * iu * inv[v])
			}
		}
	})
	for _, p := range badCol {
		if p >= 0 {
			return nil, indexErrorf("indices[%d] is %d but num_nodes is %d", p, g.Indices[p], nodes)
		}
	}
	return out, nil
}
