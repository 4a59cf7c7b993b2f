package graph

import (
	"slices"
	"sort"
)

// Inducer extracts induced subgraphs of one graph, reusing its scratch space
// so that, once warmed up, each Induce call allocates only its result. It
// holds a node-to-local-id map of g.NumNodes int32s, all -1 between calls.
//
// An Inducer is not safe for concurrent use; give each goroutine its own.
// The graph must not be modified while the Inducer is in use.
type Inducer struct {
	g     *CSR
	local []int32 // local[v] is v's position in the current batch, or -1

	cols    []int32   // scratch for the result's indices
	weights []float32 // scratch for the result's weights
	pairs   pairSorter
}

// NewInducer returns an Inducer for g, which must satisfy the invariants of
// the package documentation.
func NewInducer(g *CSR) *Inducer {
	local := make([]int32, g.NumNodes)
	for i := range local {
		local[i] = -1
	}
	return &Inducer{g: g, local: local}
}

// Induced returns the subgraph of g induced by nodes; see Inducer.Induce.
// It allocates a map of g.NumNodes entries per call: to extract many
// subgraphs, use an Inducer instead.
func (g *CSR) Induced(nodes []int64) (*CSR, error) {
	return NewInducer(g).Induce(nodes)
}

// Induce returns the subgraph induced by nodes, with local ids equal to
// positions in nodes: row i of the result is node nodes[i], and an edge
// u→v of the graph is kept, as i→j with nodes[i] = u and nodes[j] = v,
// exactly when both u and v are in nodes. Parallel edges are kept, weights
// are carried over when the graph has them, and each row is sorted by local
// column id (parallel edges keep their relative order), so the result
// satisfies every invariant.
//
// A negative or out-of-range node id yields an error wrapping ErrIndex, and
// a node listed twice one wrapping ErrValue. After an error the Inducer is
// still ready for use.
func (in *Inducer) Induce(nodes []int64) (*CSR, error) {
	g := in.g
	local := in.local
	n := uint64(len(local))
	ascending := true
	for i, v := range nodes {
		if uint64(v) >= n {
			in.reset(nodes[:i])
			if v < 0 {
				return nil, indexErrorf("nodes[%d] is negative: %d", i, v)
			}
			return nil, indexErrorf("nodes[%d] is %d but num_nodes is %d", i, v, n)
		}
		if j := local[v]; j >= 0 {
			in.reset(nodes[:i])
			return nil, valueErrorf("node %d appears twice in nodes, at positions %d and %d", v, j, i)
		}
		// Without duplicates there are at most NumNodes ≤ MaxNodes
		// entries, so i fits in an int32.
		local[v] = int32(i)
		if i > 0 && v < nodes[i-1] {
			ascending = false
		}
	}

	weighted := g.Weights != nil
	indptr := make([]int64, len(nodes)+1)
	cols, weights := in.cols[:0], in.weights[:0]
	for i, v := range nodes {
		lo, hi := g.Indptr[v], g.Indptr[v+1]
		start := len(cols)
		for p, c := range g.Indices[lo:hi] {
			if j := local[c]; j >= 0 {
				cols = append(cols, j)
				if weighted {
					weights = append(weights, g.Weights[lo+int64(p)])
				}
			}
		}
		// Rows of g are sorted by global id; when nodes is ascending the
		// local ids preserve that order and no sort is needed.
		if !ascending && len(cols)-start > 1 {
			if weighted {
				in.pairs = pairSorter{cols[start:], weights[start:]}
				sort.Stable(&in.pairs)
				in.pairs = pairSorter{}
			} else {
				slices.Sort(cols[start:])
			}
		}
		indptr[i+1] = int64(len(cols))
	}
	in.reset(nodes)
	in.cols, in.weights = cols, weights

	out := &CSR{NumNodes: len(nodes), Indptr: indptr, Indices: make([]int32, len(cols))}
	copy(out.Indices, cols)
	if weighted {
		out.Weights = make([]float32, len(weights))
		copy(out.Weights, weights)
	}
	return out, nil
}

// reset marks the given nodes as absent from the batch again.
func (in *Inducer) reset(nodes []int64) {
	for _, v := range nodes {
		in.local[v] = -1
	}
}

// pairSorter sorts column ids together with their weights. It is used with
// sort.Stable so that parallel edges keep their order from the graph.
type pairSorter struct {
	cols    []int32
	weights []float32
}

func (s *pairSorter) Len() int           { return len(s.cols) }
func (s *pairSorter) Less(i, j int) bool { return s.cols[i] < s.cols[j] }
func (s *pairSorter) Swap(i, j int) {
	s.cols[i], s.cols[j] = s.cols[j], s.cols[i]
	s.weights[i], s.weights[j] = s.weights[j], s.weights[i]
}
