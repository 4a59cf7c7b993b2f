package graph

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
)

// Options controls how FromCOO assembles a CSR from an edge list.
//
// The steps apply in this order: Symmetrize, then DropDuplicates, then
// AddSelfLoops; the rows of the result are always sorted.
type Options struct {
	// Symmetrize adds the reverse edge v→u for every input edge u→v with
	// u ≠ v (a self-loop is its own reverse and is not doubled). Without
	// DropDuplicates, an edge given in both directions therefore appears
	// twice in each direction; the result is symmetric either way.
	Symmetrize bool

	// AddSelfLoops ensures every node has a self-loop u→u: one is added
	// to each node that has none, and nodes that already have one or more
	// are left as they are (with DropDuplicates, exactly one remains).
	AddSelfLoops bool

	// DropDuplicates removes repeated (u, v) pairs, including those that
	// Symmetrize creates, so that every stored edge is distinct.
	DropDuplicates bool

	// Workers is the number of goroutines used for large inputs; 0 means
	// runtime.GOMAXPROCS(0). It never changes the result. Inputs with fewer
	// than 1<<16 edges are always processed on the calling goroutine.
	Workers int
}

// parallelMinEdges is the number of edges from which FromCOO goes parallel.
const parallelMinEdges = 1 << 16

// maxEdges bounds the number of stored edges (after Symmetrize and
// AddSelfLoops) so that every intermediate buffer, at 8 bytes per edge,
// stays addressable.
var maxEdges = int64(min(uint64(math.MaxInt)/8, 1<<44))

// FromCOO builds a CSR from a COO edge list: edge i goes from src[i] to
// dst[i] and is stored in row src[i]. For a PyG edge_index, src is
// edge_index[0] and dst is edge_index[1]. The result is unweighted
// (Weights is nil), satisfies every invariant of the package documentation
// and does not depend on opt.Workers.
//
// If numNodes is negative it is inferred as the largest node id plus one (0
// when there are no edges). Nodes without edges are allowed and simply get
// empty rows (or just their self-loop with AddSelfLoops).
//
// Errors wrap ErrIndex when a node id is negative or not below numNodes
// (the message names the first offending edge, e.g. "edge 17 has node id
// 2708 but num_nodes is 2708"), and ErrValue when src and dst differ in
// length, when opt.Workers is negative, when numNodes exceeds MaxNodes, or
// when the number of edges would overflow the index types.
//
// Inputs with at least 1<<16 edges are processed by opt.Workers goroutines.
// The algorithm is a two-level counting sort: rows are grouped into blocks
// of consecutive ids; each worker validates and counts its slice of the
// edges per block, prefix sums give every (worker, block) pair a private
// write window, the edges are scattered block by block into a temporary
// buffer, and finally each block is expanded into its rows, which are then
// sorted and compacted independently. Extra memory is O(E + N + workers·B)
// where B, the number of blocks, is about max(16·workers, N/16384), so it
// never grows as workers·N; no atomics or per-edge allocations are used.
func FromCOO(src, dst []int64, numNodes int, opt Options) (*CSR, error) {
	return fromCOO(src, dst, numNodes, opt, parallelMinEdges)
}

// fromCOO is FromCOO with the parallelism threshold as a parameter so that
// tests can exercise the parallel path on small inputs.
func fromCOO(src, dst []int64, numNodes int, opt Options, minParallel int) (*CSR, error) {
	if len(src) != len(dst) {
		return nil, valueErrorf("src has %d entries but dst has %d", len(src), len(dst))
	}
	if opt.Workers < 0 {
		return nil, valueErrorf("workers must not be negative, got %d", opt.Workers)
	}
	e := len(src)
	workers := 1
	if e >= minParallel && e > 1 {
		workers = opt.Workers
		if workers == 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		workers = max(1, min(workers, e))
	}

	n := numNodes
	switch {
	case n < 0:
		mx, err := maxNodeID(src, dst, workers)
		if err != nil {
			return nil, err
		}
		if mx >= MaxNodes {
			return nil, valueErrorf("index overflow: inferred num_nodes %d (largest node id + 1) exceeds the int32 index width", mx+1)
		}
		n = int(mx + 1)
	case n > MaxNodes:
		return nil, valueErrorf("index overflow: num_nodes %d exceeds the int32 index width", n)
	}
	// The exact total is known only after counting; this checks a bound.
	if _, err := edgeTotal(int64(e), int64(n), opt); err != nil {
		return nil, err
	}

	if n == 0 {
		if e > 0 {
			return nil, edgeError(src, dst, 0, 0)
		}
		return &CSR{NumNodes: 0, Indptr: []int64{0}, Indices: []int32{}}, nil
	}

	b := &builder{
		src: src, dst: dst, n: n, workers: workers, opt: opt,
	}
	b.layout()
	if err := b.count(); err != nil {
		return nil, err
	}
	b.scatter()
	return b.assemble(), nil
}

// edgeTotal returns an upper bound on the number of stored edges for e input
// edges on n nodes under opt, or an ErrValue error if that bound exceeds
// maxEdges.
func edgeTotal(e, n int64, opt Options) (int64, error) {
	overflow := func() error {
		return valueErrorf("edge count overflow: %d edges on %d nodes (symmetrize=%t, self-loops=%t) exceed the limit of %d stored edges",
			e, n, opt.Symmetrize, opt.AddSelfLoops, maxEdges)
	}
	if e < 0 || n < 0 || e > maxEdges {
		return 0, overflow()
	}
	t := e
	if opt.Symmetrize {
		if t > maxEdges-t {
			return 0, overflow()
		}
		t += t
	}
	if opt.AddSelfLoops {
		if n > maxEdges-t {
			return 0, overflow()
		}
		t += n
	}
	return t, nil
}

// edgeError describes why edge j is invalid for n nodes. It must only be
// called for an invalid edge.
func edgeError(src, dst []int64, j int, n int64) error {
	for _, id := range [2]int64{src[j], dst[j]} {
		if id < 0 {
			return indexErrorf("edge %d has negative node id %d", j, id)
		}
		if id >= n {
			return indexErrorf("edge %d has node id %d but num_nodes is %d", j, id, n)
		}
	}
	panic("graph: edgeError called for a valid edge")
}

// maxNodeID returns the largest id in src and dst, or -1 if both are empty.
// A negative id yields an ErrIndex error naming the first such edge.
func maxNodeID(src, dst []int64, workers int) (int64, error) {
	maxes := make([]int64, workers)
	bad := make([]int, workers)
	parallelChunks(len(src), workers, func(w, lo, hi int) {
		mx := int64(-1)
		bad[w] = -1
		for j := lo; j < hi; j++ {
			s, d := src[j], dst[j]
			if s < 0 || d < 0 {
				bad[w] = j
				return
			}
			mx = max(mx, s, d)
		}
		maxes[w] = mx
	})
	mx := int64(-1)
	for w := range workers {
		if bad[w] >= 0 {
			// Chunks are in edge order, so the first failing chunk holds
			// the first invalid edge.
			return 0, edgeError(src, dst, bad[w], math.MaxInt64)
		}
		mx = max(mx, maxes[w])
	}
	return mx, nil
}

// builder carries the state of one FromCOO call.
type builder struct {
	src, dst []int64
	n        int
	workers  int
	opt      Options

	shift  uint // rows of block k are [k<<shift, (k+1)<<shift) ∩ [0, n)
	blocks int

	// offsets[w*blocks+k] is first the number of temporary entries worker w
	// produces for block k, then the position where it writes the next one.
	offsets []int64
	// tmpStart[k] is where block k starts in tmp; tmpStart[blocks] = len(tmp).
	tmpStart []int64
	// tmp holds the edges packed as row<<32 | col, grouped by block.
	tmp []uint64
}

// layout chooses the block size: a power of two number of rows giving at
// least 16 blocks per worker (for load balance) and at most 16384 rows per
// block (so a block's counters stay in cache).
func (b *builder) layout() {
	target := max(16*b.workers, (b.n+16383)/16384)
	per := (b.n + target - 1) / target
	b.shift = uint(bits.Len(uint(per - 1)))
	b.blocks = (b.n + (1 << b.shift) - 1) >> b.shift
}

// count validates every edge and counts, per worker and block, the entries
// that will go to tmp. It returns an ErrIndex error for the first invalid
// edge.
func (b *builder) count() error {
	nb, shift := b.blocks, b.shift
	b.offsets = make([]int64, b.workers*nb)
	bad := make([]int, b.workers)
	un := uint64(b.n)
	sym := b.opt.Symmetrize
	parallelChunks(len(b.src), b.workers, func(w, lo, hi int) {
		c := b.offsets[w*nb : (w+1)*nb]
		src, dst := b.src[lo:hi], b.dst[lo:hi]
		bad[w] = -1
		for j, s := range src {
			d := dst[j]
			// Negative ids become huge unsigned values, so one comparison
			// per id checks both bounds.
			if uint64(s) >= un || uint64(d) >= un {
				bad[w] = lo + j
				return
			}
			c[s>>shift]++
			if sym && s != d {
				c[d>>shift]++
			}
		}
	})
	for w := range b.workers {
		if bad[w] >= 0 {
			return edgeError(b.src, b.dst, bad[w], int64(b.n))
		}
	}
	// Turn counts into write positions: block-major, worker-minor, so each
	// block's entries are contiguous in tmp.
	b.tmpStart = make([]int64, nb+1)
	var pos int64
	for k := range nb {
		b.tmpStart[k] = pos
		for w := range b.workers {
			i := w*nb + k
			c := b.offsets[i]
			b.offsets[i] = pos
			pos += c
		}
	}
	b.tmpStart[nb] = pos
	return nil
}

// scatter writes every edge (and its reverse under Symmetrize) into tmp at
// the positions reserved by count.
func (b *builder) scatter() {
	nb, shift := b.blocks, b.shift
	b.tmp = make([]uint64, b.tmpStart[nb])
	tmp := b.tmp
	sym := b.opt.Symmetrize
	parallelChunks(len(b.src), b.workers, func(w, lo, hi int) {
		off := b.offsets[w*nb : (w+1)*nb]
		src, dst := b.src[lo:hi], b.dst[lo:hi]
		for j, s := range src {
			d := dst[j]
			k := s >> shift
			tmp[off[k]] = uint64(s)<<32 | uint64(d)
			off[k]++
			if sym && s != d {
				k = d >> shift
				tmp[off[k]] = uint64(d)<<32 | uint64(s)
				off[k]++
			}
		}
	})
	b.offsets = nil
}

// assemble expands every block of tmp into its rows of the result, sorts,
// deduplicates and adds self-loops row by row, and finally closes the gaps
// that removed entries left between blocks.
func (b *builder) assemble() *CSR {
	n, nb, shift := b.n, b.blocks, b.shift
	self, dedup := b.opt.AddSelfLoops, b.opt.DropDuplicates
	total := b.tmpStart[nb]
	if self {
		total += int64(n) // one reserved slot per row
	}
	indptr := make([]int64, n+1)
	indices := make([]int32, total)
	// kept[k] is the number of entries block k holds after compaction.
	kept := make([]int64, nb)

	// base returns where block k starts in indices before compaction.
	base := func(k int) int64 {
		s := b.tmpStart[k]
		if self {
			s += int64(k) << shift // reserved self-loop slots of earlier blocks
		}
		return s
	}

	parallelTasks(nb, b.workers, func(k int) {
		lo := k << shift
		hi := min(lo+1<<shift, n)
		edges := b.tmp[b.tmpStart[k]:b.tmpStart[k+1]]
		start := base(k)

		// cur[i] counts, then tracks the write position of, row lo+i. It
		// lives in indptr[lo+1 : hi+1], which this block alone writes.
		cur := indptr[lo+1 : hi+1]
		for _, p := range edges {
			cur[int(p>>32)-lo]++
		}
		pos := start
		for i, c := range cur {
			cur[i] = pos
			pos += c
			if self {
				indices[pos] = int32(lo + i)
				pos++
			}
		}
		for _, p := range edges {
			r := int(p>>32) - lo
			indices[cur[r]] = int32(uint32(p))
			cur[r]++
		}
		// Now cur[i] is the end of row lo+i (the reserved self-loop slot
		// sits right after it). Sort, clean up and compact each row towards
		// the start of the block.
		w := start
		rowStart := start
		for i := range cur {
			rowEnd := cur[i]
			if self {
				rowEnd++
			}
			row := indices[rowStart:rowEnd]
			slices.Sort(row)
			m := len(row)
			if dedup {
				m = dedupSorted(row)
			} else if self {
				m = dropAddedLoop(row, int32(lo+i))
			}
			if w != rowStart {
				copy(indices[w:], row[:m])
			}
			w += int64(m)
			cur[i] = w
			rowStart = rowEnd
		}
		kept[k] = w - start
	})
	b.tmp = nil

	var newTotal int64
	for _, c := range kept {
		newTotal += c
	}
	if newTotal == total {
		return &CSR{NumNodes: n, Indptr: indptr, Indices: indices}
	}
	// Close the gaps: copy each block to its final place in a right-sized
	// array and shift its row pointers.
	out := make([]int32, newTotal)
	newBase := make([]int64, nb)
	var pos int64
	for k, c := range kept {
		newBase[k] = pos
		pos += c
	}
	parallelTasks(nb, b.workers, func(k int) {
		old, nw := base(k), newBase[k]
		copy(out[nw:nw+kept[k]], indices[old:old+kept[k]])
		lo := k << shift
		hi := min(lo+1<<shift, n)
		delta := nw - old
		for u := lo + 1; u <= hi; u++ {
			indptr[u] += delta
		}
	})
	return &CSR{NumNodes: n, Indptr: indptr, Indices: out}
}

// dedupSorted removes repeated values from the sorted slice s in place and
// returns the number of distinct values, which now form s[:m].
func dedupSorted(s []int32) int {
	if len(s) == 0 {
		return 0
	}
	m := 1
	for _, v := range s[1:] {
		if v != s[m-1] {
			s[m] = v
			m++
		}
	}
	return m
}

// dropAddedLoop is called on a sorted row u that received one extra
// self-loop u. If the row already had a self-loop, it removes the extra one.
// It returns the new length of the row, which now forms row[:m].
func dropAddedLoop(row []int32, u int32) int {
	i, _ := slices.BinarySearch(row, u) // first occurrence of u
	if i+1 < len(row) && row[i+1] == u {
		copy(row[i:], row[i+1:])
		return len(row) - 1
	}
	return len(row)
}
