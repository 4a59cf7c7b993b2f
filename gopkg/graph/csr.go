package graph

import (
	"math"
)

// MaxNodes is the largest number of nodes a CSR may have: column ids are
// stored as int32, so node ids must stay below math.MaxInt32.
const MaxNodes = math.MaxInt32

// CSR is a directed graph (or sparse adjacency matrix) in compressed sparse
// row form. The out-neighbours of node u are Indices[Indptr[u]:Indptr[u+1]],
// sorted ascending; an edge u→v is stored in row u. See the package
// documentation for the full list of invariants, which Validate checks.
type CSR struct {
	// NumNodes is the number of nodes; node ids are 0 … NumNodes-1.
	NumNodes int
	// Indptr has NumNodes+1 entries; row u occupies
	// Indices[Indptr[u]:Indptr[u+1]].
	Indptr []int64
	// Indices holds the column (target node) ids, row after row, each row
	// sorted ascending.
	Indices []int32
	// Weights holds one weight per entry of Indices, or is nil when the
	// graph is unweighted (every edge weighs 1).
	Weights []float32
}

// NumEdges returns the number of stored edges, len(g.Indices). Parallel
// edges and self-loops are counted like any other edge.
func (g *CSR) NumEdges() int { return len(g.Indices) }

// Degree returns the out-degree of node u, the length of row u. It panics if
// u is not in [0, g.NumNodes), like a slice index would.
func (g *CSR) Degree(u int) int { return int(g.Indptr[u+1] - g.Indptr[u]) }

// Degrees returns a new slice holding the out-degree (row length) of every
// node. In-degrees are the Degrees of g.Transpose().
func (g *CSR) Degrees() []int64 {
	d := make([]int64, g.NumNodes)
	for u := range d {
		d[u] = g.Indptr[u+1] - g.Indptr[u]
	}
	return d
}

// Row returns the sorted out-neighbours of node u. The result aliases
// g.Indices and has its capacity clipped, so appending to it never
// overwrites the next row; it must not be modified in place unless the
// caller owns g. Row panics if u is not in [0, g.NumNodes).
func (g *CSR) Row(u int) []int32 {
	lo, hi := g.Indptr[u], g.Indptr[u+1]
	return g.Indices[lo:hi:hi]
}

// Validate checks every invariant listed in the package documentation and
// returns nil if g satisfies them all. A column id out of range yields an
// error wrapping ErrIndex; every other violation wraps ErrValue. Validate
// runs in O(NumNodes + NumEdges) time and never panics, whatever g holds.
func (g *CSR) Validate() error {
	if g == nil {
		return valueErrorf("CSR is nil")
	}
	n := g.NumNodes
	if n < 0 {
		return valueErrorf("num_nodes is negative: %d", n)
	}
	if n > MaxNodes {
		return valueErrorf("index overflow: num_nodes %d exceeds the int32 index width", n)
	}
	if len(g.Indptr) != n+1 {
		return valueErrorf("indptr has length %d but num_nodes+1 is %d", len(g.Indptr), n+1)
	}
	if g.Indptr[0] != 0 {
		return valueErrorf("indptr[0] is %d, want 0", g.Indptr[0])
	}
	if last := g.Indptr[n]; last != int64(len(g.Indices)) {
		return valueErrorf("indptr[%d] is %d but there are %d indices", n, last, len(g.Indices))
	}
	for u := 0; u < n; u++ {
		lo, hi := g.Indptr[u], g.Indptr[u+1]
		if hi < lo {
			return valueErrorf("indptr is decreasing at row %d: %d > %d", u, lo, hi)
		}
		// lo ≥ 0 and hi ≤ len(Indices) follow from monotonicity and the
		// end-point checks above, but guard against hi beyond the end in
		// case an earlier entry already overshot.
		if hi > int64(len(g.Indices)) {
			return valueErrorf("indptr[%d] is %d but there are %d indices", u+1, hi, len(g.Indices))
		}
		prev := int32(-1)
		for p := lo; p < hi; p++ {
			v := g.Indices[p]
			if v < 0 || int64(v) >= int64(n) {
				return indexErrorf("indices[%d] (row %d) is %d but num_nodes is %d", p, u, v, n)
			}
			if v < prev {
				return valueErrorf("row %d is not sorted: indices[%d] = %d follows %d", u, p, v, prev)
			}
			prev = v
		}
	}
	if g.Weights != nil {
		if len(g.Weights) != len(g.Indices) {
			return valueErrorf("weights has length %d but there are %d indices", len(g.Weights), len(g.Indices))
		}
		for p, w := range g.Weights {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				return valueErrorf("weights[%d] is not finite: %v", p, w)
			}
		}
	}
	return nil
}

// checkShape performs the O(1) consistency checks that methods returning an
// error do before touching the arrays.
func (g *CSR) checkShape() error {
	n := g.NumNodes
	if n < 0 || n > MaxNodes {
		return valueErrorf("num_nodes %d is out of the range [0, %d]", n, MaxNodes)
	}
	if len(g.Indptr) != n+1 {
		return valueErrorf("indptr has length %d but num_nodes+1 is %d", len(g.Indptr), n+1)
	}
	if g.Indptr[n] != int64(len(g.Indices)) {
		return valueErrorf("indptr[%d] is %d but there are %d indices", n, g.Indptr[n], len(g.Indices))
	}
	if g.Weights != nil && len(g.Weights) != len(g.Indices) {
		return valueErrorf("weights has length %d but there are %d indices", len(g.Weights), len(g.Indices))
	}
	return nil
}
