package bindings

import (
	"fmt"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// GraphFromCOO builds a CSR graph from a PyG edge_index: edgeIndex points to
// 2·numEdges int64 values (sources, then targets). numNodes < 0 infers the
// node count as max id + 1. Returns the graph's handle.
func GraphFromCOO(edgeIndex uintptr, numEdges, numNodes int, symmetrize, addSelfLoops, dropDuplicates bool) (h int, err error) {
	defer guard(&err)
	ei, err := int64s(edgeIndex, 2*numEdges)
	if err != nil {
		return 0, err
	}
	var src, dst []int64
	if numEdges > 0 {
		src, dst = ei[:numEdges], ei[numEdges:]
	}
	if err := checkGraphMemory(src, dst, numNodes, symmetrize, addSelfLoops); err != nil {
		return 0, err
	}
	g, err := graph.FromCOO(src, dst, numNodes, graph.Options{
		Symmetrize: symmetrize, AddSelfLoops: addSelfLoops, DropDuplicates: dropDuplicates})
	if err != nil {
		return 0, err
	}
	return put(g), nil
}

// checkGraphMemory refuses a graph whose CSR the machine cannot hold: row
// pointers for every node (the node count given, or the largest id + 1
// that graph.FromCOO would infer) and, per stored edge, its column and a
// sort buffer entry. A single edge to node 2^31-2 implies 16 GiB of row
// pointers; this is checked before FromCOO allocates them.
func checkGraphMemory(src, dst []int64, numNodes int, symmetrize, addSelfLoops bool) error {
	n := int64(numNodes)
	if n < 0 {
		for i := range src {
			n = max(n, src[i]+1, dst[i]+1)
		}
	}
	if n > graph.MaxNodes {
		return nil // FromCOO reports the overflow as a value error
	}
	e := int64(len(src))
	if symmetrize {
		e *= 2
	}
	if addSelfLoops {
		e += n
	}
	return memlimit.Check(fmt.Sprintf("a graph of %d nodes and %d stored edges", n, e), (n+1)*8+e*12)
}

// GraphShape writes the node and edge counts of graph h as two int64 at out.
func GraphShape(h int, out uintptr) (err error) {
	defer guard(&err)
	g, err := get[*graph.CSR](h)
	if err != nil {
		return err
	}
	return putInts(out, int64(g.NumNodes), int64(g.NumEdges()))
}

// GraphCopyCSR copies graph h's row pointers (NumNodes+1 int64 at indptr) and
// column ids (NumEdges int64 at indices; skipped when 0).
func GraphCopyCSR(h int, indptr, indices uintptr) (err error) {
	defer guard(&err)
	g, ip, err := withInts(get[*graph.CSR], h, indptr, func(g *graph.CSR) int { return len(g.Indptr) })
	if err != nil {
		return err
	}
	copy(ip, g.Indptr)
	if indices != 0 && len(g.Indices) > 0 {
		col := unsafe.Slice((*int64)(ptr(indices)), len(g.Indices))
		for i, c := range g.Indices {
			col[i] = int64(c)
		}
	}
	return nil
}

// GraphCopyEdgeIndex writes graph h's edges in CSR order as a PyG edge_index:
// 2·NumEdges int64 at dst (row ids, then column ids).
func GraphCopyEdgeIndex(h int, dst uintptr) (err error) {
	defer guard(&err)
	g, out, err := withInts(get[*graph.CSR], h, dst, func(g *graph.CSR) int { return 2 * g.NumEdges() })
	e := len(out) / 2
	if err != nil || e == 0 {
		return err
	}
	rows, cols := out[:e], out[e:]
	for u := 0; u < g.NumNodes; u++ {
		for k := g.Indptr[u]; k < g.Indptr[u+1]; k++ {
			rows[k] = int64(u)
		}
	}
	for i, c := range g.Indices {
		cols[i] = int64(c)
	}
	return nil
}

// GraphCopyDegrees writes the out-degree of every node of graph h as
// NumNodes int64 at dst.
func GraphCopyDegrees(h int, dst uintptr) (err error) {
	defer guard(&err)
	g, out, err := withInts(get[*graph.CSR], h, dst, func(g *graph.CSR) int { return g.NumNodes })
	if err != nil {
		return err
	}
	copy(out, g.Degrees())
	return nil
}

// GraphCopyWeights writes graph h's normalized edge weights, aligned with
// its CSR edges, as NumEdges float32 at dst. norm is "none", "rw" (D⁻¹A) or
// "sym" (D^-½AD^-½).
func GraphCopyWeights(h int, norm string, dst uintptr) (err error) {
	defer guard(&err)
	_, w, err := normalizedWeights(h, norm)
	if err != nil {
		return err
	}
	if len(w) == 0 {
		return nil
	}
	if dst == 0 {
		return argErr("weights buffer is null")
	}
	copy(unsafe.Slice((*float32)(ptr(dst)), len(w)), w)
	return nil
}

// GraphInduce returns the handle of the subgraph of graph h induced by the n
// int64 node ids at nodes; node i of the subgraph is nodes[i].
func GraphInduce(h int, nodes uintptr, n int) (sub int, err error) {
	defer guard(&err)
	g, ids, err := withInts(get[*graph.CSR], h, nodes, func(*graph.CSR) int { return n })
	if err != nil {
		return 0, err
	}
	s, err := g.Induced(ids)
	if err != nil {
		return 0, err
	}
	return put(s), nil
}

// withInts looks up handle h with lookup and views the int64 buffer at p
// whose length n gives for the object found: the common start of the calls
// that copy an engine object's ids to a caller's buffer or read ids for it.
func withInts[T any](lookup func(int) (T, error), h int, p uintptr, n func(T) int) (T, []int64, error) {
	o, err := lookup(h)
	if err != nil {
		return o, nil, err
	}
	v, err := int64s(p, n(o))
	return o, v, err
}

// normedGraph returns graph gh and the norm named norm ("sym", "rw" or
// "none").
func normedGraph(gh int, norm string) (*graph.CSR, graph.Norm, error) {
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return nil, 0, err
	}
	nm, err := graph.ParseNorm(norm)
	return g, nm, err
}

// normalizedWeights returns graph gh and its edge weights normalized by
// norm over the whole graph (aligned with its CSR edges).
func normalizedWeights(gh int, norm string) (*graph.CSR, []float32, error) {
	g, nm, err := normedGraph(gh, norm)
	if err != nil {
		return nil, nil, err
	}
	w, err := g.Normalized(nm)
	return g, w, err
}
