package batch

import (
	"fmt"
	"slices"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// Halo batches (historical embeddings, GNNAutoScale's scheme).
//
// A model with historical embeddings computes a batch's own nodes exactly:
// every in-edge of those nodes must be in the batch, weighted as in the
// full graph. The sources of those edges outside the batch are its one-hop
// halo, whose hidden embeddings come from a history. A halo batch lists its
// node ids as [outputs, auxiliary nodes, halo] (the first two groups are
// the exact nodes, NumExact of them) and holds the in-edges of the exact
// nodes only, none into the halo.

// HaloGraph returns the in-edge graph of g with the full graph's edge
// weights, the graph halo batches take their edges from: row v lists the
// sources u of the edges u→v of g (repeated edges merged), with a self-loop
// v→v for every node when selfLoops, and weights normalized by norm over
// the rows, so degrees are in-degrees: NormSym gives 1/sqrt(d_u·d_v) (with
// self-loops, PyTorch Geometric's gcn_norm), NormRow 1/d_v (a mean over
// the in-neighbours), NormNone ones. g's own weights are not used.
//
// Errors wrap graph.ErrValue (a nil or invalid graph, an unknown norm) or
// memlimit.ErrMemory (the machine cannot give the memory it needs, checked
// before anything is allocated).
func HaloGraph(g *graph.CSR, norm graph.Norm, selfLoops bool) (*graph.CSR, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: halo: graph is nil", graph.ErrValue)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if norm != graph.NormNone && norm != graph.NormRow && norm != graph.NormSym {
		return nil, fmt.Errorf("%w: halo: unknown normalization %v", graph.ErrValue, norm)
	}
	// Transpose, COO copy and FromCOO's result live at once: about 48 bytes
	// per edge (self-loops included) and 16 per node.
	m := int64(len(g.Indices)) + int64(g.NumNodes)
	if err := memlimit.Check(fmt.Sprintf("the halo graph of %d nodes and %d edges", g.NumNodes, len(g.Indices)),
		48*m+16*int64(g.NumNodes)); err != nil {
		return nil, err
	}
	// The transpose holds the in-edges; FromCOO merges repeats and adds the
	// loops with the same rules as every other graph of the engine.
	t := g.Transpose()
	src := make([]int64, len(t.Indices))
	dst := make([]int64, len(t.Indices))
	for v := range t.NumNodes {
		for k := t.Indptr[v]; k < t.Indptr[v+1]; k++ {
			src[k], dst[k] = int64(v), int64(t.Indices[k])
		}
	}
	h, err := graph.FromCOO(src, dst, g.NumNodes, graph.Options{AddSelfLoops: selfLoops, DropDuplicates: true})
	if err != nil {
		return nil, err
	}
	if h.Weights, err = h.Normalized(norm); err != nil {
		return nil, err
	}
	return h, nil
}

// HaloInducer builds the halo batches of node sets over an in-edge graph
// (HaloGraph), reusing a node-to-local-id map of NumNodes int32s between
// calls. It is not safe for concurrent use; give each goroutine its own.
type HaloInducer struct {
	g     *graph.CSR
	local []int32 // local[v]: v's position in the current batch, or -1
	halo  []int64 // scratch: the current batch's halo
}

// NewHaloInducer returns a HaloInducer over in-edge graph g (row v: the
// sources of v's in-edges; Weights nil means ones), which must satisfy
// the invariants of package graph.
func NewHaloInducer(g *graph.CSR) *HaloInducer {
	local := make([]int32, g.NumNodes)
	for i := range local {
		local[i] = -1
	}
	return &HaloInducer{g: g, local: local}
}

// mark gives the exact nodes their local ids, checking range and
// repeats; on error nothing stays marked.
func (h *HaloInducer) mark(exact []int64) error {
	n := uint64(len(h.local))
	for i, v := range exact {
		if uint64(v) >= n {
			h.unmark(exact[:i])
			return fmt.Errorf("%w: halo: node id %d at position %d is out of range for %d nodes", graph.ErrIndex, v, i, n)
		}
		if j := h.local[v]; j >= 0 {
			h.unmark(exact[:i])
			return fmt.Errorf("%w: halo: node %d is repeated (at positions %d and %d); the exact nodes must be distinct", graph.ErrValue, v, j, i)
		}
		h.local[v] = int32(i)
	}
	return nil
}

func (h *HaloInducer) unmark(ids []int64) {
	for _, v := range ids {
		h.local[v] = -1
	}
}

// collect marks the exact nodes and gathers their halo, ascending, into
// h.halo, giving the halo nodes local ids after the exact ones. The caller
// unmarks exact and h.halo.
func (h *HaloInducer) collect(exact []int64) error {
	if err := h.mark(exact); err != nil {
		return err
	}
	g := h.g
	h.halo = h.halo[:0]
	for _, v := range exact {
		for _, u := range g.Indices[g.Indptr[v]:g.Indptr[v+1]] {
			if h.local[u] == -1 {
				h.local[u] = -2 // seen
				h.halo = append(h.halo, int64(u))
			}
		}
	}
	slices.Sort(h.halo)
	for i, u := range h.halo {
		h.local[u] = int32(len(exact) + i)
	}
	return nil
}

// Count returns the halo size and the edge count of the halo batch of the
// distinct node ids exact (see Fill).
func (h *HaloInducer) Count(exact []int64) (halo, edges int, err error) {
	if err := h.collect(exact); err != nil {
		return 0, 0, err
	}
	halo = len(h.halo)
	g := h.g
	for _, v := range exact {
		edges += int(g.Indptr[v+1] - g.Indptr[v])
	}
	h.unmark(exact)
	h.unmark(h.halo)
	return halo, edges, nil
}

// Fill writes the halo batch of the distinct node ids exact (local ids
// 0 … len(exact)-1 in their order): the halo, the sources of their in-edges
// that are not among them, ascending, into halo; and every in-edge u→v of
// every exact node, target after target in the order of exact and each
// target's sources ascending, as local ids into src and dst with its weight
// into w. The slices must have exactly the lengths Count reports.
//
// Errors wrap graph.ErrIndex (an id out of range) or graph.ErrValue (a
// repeated id, wrong slice lengths); the HaloInducer stays usable.
func (h *HaloInducer) Fill(exact, halo, src, dst []int64, w []float32) error {
	if err := h.collect(exact); err != nil {
		return err
	}
	defer func() { h.unmark(exact); h.unmark(h.halo) }()
	g := h.g
	m := 0
	for _, v := range exact {
		m += int(g.Indptr[v+1] - g.Indptr[v])
	}
	if len(halo) != len(h.halo) || len(src) != m || len(dst) != m || len(w) != m {
		return fmt.Errorf("%w: halo: buffers for %d halo nodes and %d/%d/%d edges, the batch has %d and %d",
			graph.ErrValue, len(halo), len(src), len(dst), len(w), len(h.halo), m)
	}
	copy(halo, h.halo)
	k := 0
	for i, v := range exact {
		lo, hi := g.Indptr[v], g.Indptr[v+1]
		for p := lo; p < hi; p++ {
			src[k], dst[k] = int64(h.local[g.Indices[p]]), int64(i)
			if g.Weights != nil {
				w[k] = g.Weights[p]
			} else {
				w[k] = 1
			}
			k++
		}
	}
	return nil
}

// checkHaloGraph checks the in-edge graph given for halo batches over a
// graph of n nodes.
func checkHaloGraph(h *graph.CSR, n int) error {
	if h.NumNodes != n {
		return fmt.Errorf("%w: arena: the halo graph has %d nodes, the graph %d", graph.ErrValue, h.NumNodes, n)
	}
	if err := h.Validate(); err != nil {
		return fmt.Errorf("arena: halo graph: %w", err)
	}
	return nil
}
