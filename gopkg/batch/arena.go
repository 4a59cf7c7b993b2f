package batch

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ibmb-dev/ibmb/internal/par"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"github.com/ibmb-dev/ibmb/kernels/gather"
)

// The batch arena: every batch materialized into one contiguous block.
//
// Layout (all integers little-endian; every section starts on a 64-byte
// boundary; the same bytes are the saved file, so loading is a memory map):
//
//	header      headerSize bytes: magic, version, counts, section table,
//	            parameters, payload checksum, header checksum
//	table       per batch: nodeOff, nodeCount, edgeOff, edgeCount, outCount (5 int64),
//	            and exactCount (a 6th int64) in halo arenas
//	nid         int64[totalNodes]    global ids of each batch's nodes: its output
//	                                 nodes first (ascending), then the others (ascending);
//	                                 in halo arenas then its halo (ascending)
//	outmask     uint8[totalNodes]    1 for output nodes (so 1s then 0s in every batch)
//	edges       int64[2·totalEdges]  per batch: local sources, then local targets
//	weight      float32[totalEdges]  normalized edge weights
//	y           int64[totalNodes]    labels of the batch nodes (if given)
//	x           rowBytes·totalNodes  feature rows of the batch nodes (if given)
//
// A batch b is the set of views table[b] selects: its nodes nid[o:o+n],
// its mask outmask[o:o+n], its edge_index edges[2e:2e+2m] as a [2, m]
// array, weight[e:e+m], y[o:o+n] and x rows o..o+n. Output nodes come first
// so that the first outCount rows of a batch are its outputs (PyG's
// batch_size convention: a model's out[:batch_size] are the output nodes).
//
// Halo arenas (ArenaOptions.Halo) are format version 3: the table has a
// sixth column, the number of exact nodes (outputs and auxiliary nodes)
// that precede the batch's halo, and a batch's edges are the in-edges of
// its exact nodes with the halo graph's weights (targets below exactCount).
// Arenas without a halo are written as version 2, byte for byte as before,
// and both versions are read.

// Arena format constants.
const (
	arenaMagic   = "IBMBARN1"
	arenaVersion = 2
	// arenaVersionHalo is the version of arenas with halo batches.
	arenaVersionHalo = 3
	headerSize       = 4096
	align            = 64
	tableCols        = 5
	tableColsHalo    = 6
	maxParams        = 2048
)

// Section indices in the header's section table.
const (
	secTable = iota
	secNID
	secMask
	secEdges
	secWeight
	secY
	secX
	numSections
)

var sectionNames = [numSections]string{"table", "nid", "outmask", "edges", "weight", "y", "x"}

// DType names the element type of the feature rows (the arena copies rows as
// bytes; the type is recorded so readers can view them). The codes are
// package dtype's, shared with history stores; an arena stores the types
// below NumDTypes.
type DType = dtype.DType

// Feature element types.
const (
	DTypeNone     = dtype.None
	DTypeFloat32  = dtype.Float32
	DTypeFloat16  = dtype.Float16
	DTypeBFloat16 = dtype.BFloat16
)

// NumDTypes is one more than the largest valid DType: the valid values are
// [DTypeNone, NumDTypes).
const NumDTypes = DTypeBFloat16 + 1

// SectionNames returns the names of the arena's sections in the order of
// Offsets: table, nid, outmask, edges, weight, y, x.
func SectionNames() []string { return sectionNames[:] }

// TableCols is the number of int64 columns per batch in the table section
// of an arena without a halo (see Arena.TableCols).
const TableCols = tableCols

// ArenaOptions controls BuildArena.
type ArenaOptions struct {
	// Norm normalizes each batch's edge weights over its induced subgraph
	// (degrees counted inside the batch): graph.NormSym, graph.NormRow or
	// graph.NormNone (all ones).
	Norm graph.Norm
	// Labels, if not nil, holds one label per graph node; the arena stores
	// the labels of every batch node.
	Labels []int64
	// X, if not nil, points to the feature matrix: NumNodes rows of
	// RowBytes bytes each, of element type DType. The arena stores the rows
	// of every batch node. Leave X nil to store ids only and gather
	// features on the fly.
	X        unsafe.Pointer
	RowBytes int64
	DType    DType
	// Halo, if not nil, makes every batch a halo batch: the in-edge graph
	// (HaloGraph of the graph, same node count) whose rows give each exact
	// node's in-edges and their weights. The batch's nodes (outputs and
	// auxiliary nodes) are its exact nodes; the sources of their in-edges
	// outside them are appended as its halo (ascending), and its edges are
	// those in-edges, weighted as in Halo, instead of the induced subgraph.
	// Labels and feature rows are stored for the halo nodes too. Norm must
	// be graph.NormNone with a halo.
	Halo *graph.CSR
	// Params is free-form text (e.g. JSON of the batching parameters)
	// stored in the header, at most 2048 bytes.
	Params string
	// Path, if not empty, builds the arena directly into a file there
	// instead of memory: a temporary file in the same folder, mapped shared
	// while the batches are written (their feature rows reach the page
	// cache and the disk as they are gathered, not a private copy a later
	// WriteFile would write out again), then synced and renamed over Path
	// like WriteFile (same mode, symbolic link and temporary-file rules).
	// The returned arena maps the file copy-on-write, as OpenFile does, and
	// the memory check is skipped: the file's blocks are reserved up front
	// (fallocate where the file system has it), so a full disk is an error
	// before any batch is written. On failure or cancellation the
	// temporary file is removed and Path is left as it was.
	Path string
	// Workers is the number of goroutines (0: GOMAXPROCS).
	Workers int
	// Progress, if not nil, is called after each batch of each of the two
	// passes with the steps done and the total (2 × batches); it may be
	// called from several goroutines at once.
	Progress func(done, total int)
}

// Arena is a block of materialized batches. Its memory lives outside the Go
// heap (an anonymous or file mapping), so callers may hand its address to C
// or to another language's views; it stays valid until Close.
type Arena struct {
	mem     []byte
	release func() error
	hdr     header
	params  string
	// mu guards closed and users: Close while a WriteFile is running only
	// marks the arena closed, and the last user releases the memory.
	mu     sync.Mutex
	closed bool
	users  int
}

// header is the decoded fixed part of the arena header.
type header struct {
	numBatches, numNodes, totalNodes, totalEdges int64
	rowBytes                                     int64
	dtype                                        DType
	norm                                         graph.Norm
	hasLabels                                    bool
	halo                                         bool // version 3: halo batches, a 6th table column
	sec                                          [numSections]struct{ off, size int64 }
	payloadCRC                                   uint32
}

// View is one batch of an arena: slices into the arena's memory, valid
// until the arena is closed.
type View struct {
	NID     []int64   // global node ids: the NumOut outputs (ascending), then the others (ascending)
	OutMask []uint8   // 1 where the node is an output node of the batch (the first NumOut)
	Src     []int64   // local edge sources (edge_index[0])
	Dst     []int64   // local edge targets (edge_index[1])
	Weight  []float32 // normalized edge weights
	Y       []int64   // labels of the batch nodes, nil without labels
	X       []byte    // feature rows, len(NID)·RowBytes bytes, nil without features
	NumOut  int       // number of output nodes
	// NumExact is the number of exact nodes (outputs and auxiliary nodes,
	// the first NumExact of NID); the rest of NID is the batch's halo. It
	// equals len(NID) in arenas without a halo.
	NumExact int
}

func alignUp(x int64) int64 { return (x + align - 1) &^ (align - 1) }

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// BuildArena is BuildArenaContext without cancellation.
func BuildArena(g *graph.CSR, nodePtr, nodes, outPtr, out []int64, opt ArenaOptions) (*Arena, error) {
	return BuildArenaContext(context.Background(), g, nodePtr, nodes, outPtr, out, opt)
}

// BuildArenaContext materializes the batches given in CSR form (batch b has
// the sorted, distinct nodes nodes[nodePtr[b]:nodePtr[b+1]] and the output
// nodes out[outPtr[b]:outPtr[b+1]], a subset of them) over graph g into a
// new arena. Each batch gets the subgraph of g induced by its nodes, with
// local ids equal to positions in its node list and weights normalized by
// opt.Norm within the batch. In the arena each batch lists its output nodes
// first, then the rest, each group ascending.
//
// The batch description is checked completely before anything is
// allocated, and the arena's size is checked against the memory the
// machine can give (memlimit), unless opt.Path builds it into a file. ctx is checked before every batch; when it
// is cancelled the partial arena is released and ctx's error returned.
// Errors about the inputs wrap graph.ErrValue or graph.ErrIndex, a size the
// machine cannot give wraps memlimit.ErrMemory.
func BuildArenaContext(ctx context.Context, g *graph.CSR, nodePtr, nodes, outPtr, out []int64, opt ArenaOptions) (*Arena, error) {
	if err := CheckArenaInputs(g, nodePtr, nodes, outPtr, out, opt); err != nil {
		return nil, err
	}
	nb := len(nodePtr) - 1
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, nb))
	var done atomic.Int64
	progress := func() {
		if opt.Progress != nil {
			opt.Progress(int(done.Add(1)), 2*nb)
		}
	}

	// Pass 1: edge counts (and halo sizes) per batch.
	edgeCnt := make([]int64, nb)
	var haloCnt []int64
	var halos []*HaloInducer // one per worker, made on first use
	if opt.Halo != nil {
		haloCnt = make([]int64, nb)
		halos = make([]*HaloInducer, workers)
		if err := forWorkers(ctx, nb, workers, func(w, b int) error {
			if halos[w] == nil {
				halos[w] = NewHaloInducer(opt.Halo)
			}
			nh, m, err := halos[w].Count(nodes[nodePtr[b]:nodePtr[b+1]])
			if err != nil {
				return fmt.Errorf("batch %d: %w", b, err)
			}
			haloCnt[b], edgeCnt[b] = int64(nh), int64(m)
			progress()
			return nil
		}); err != nil {
			return nil, err
		}
	} else if err := forBatches(ctx, g, nb, workers, func(in *graph.Inducer, b int) error {
		sub, err := in.Induce(nodes[nodePtr[b]:nodePtr[b+1]])
		if err != nil {
			return fmt.Errorf("batch %d: %w", b, err)
		}
		edgeCnt[b] = int64(sub.NumEdges())
		progress()
		return nil
	}); err != nil {
		return nil, err
	}

	h := header{numBatches: int64(nb), numNodes: int64(g.NumNodes), totalNodes: int64(len(nodes)),
		norm: opt.Norm, hasLabels: opt.Labels != nil, halo: opt.Halo != nil}
	for b, c := range edgeCnt {
		h.totalEdges += c
		if haloCnt != nil {
			h.totalNodes += haloCnt[b]
		}
	}
	if opt.X != nil {
		h.rowBytes, h.dtype = opt.RowBytes, opt.DType
	}
	size, err := h.layout()
	if err != nil {
		return nil, err
	}
	var sink *fileSink
	var mem []byte
	release := func() error { return nil }
	if opt.Path != "" {
		if sink, err = newFileSink(opt.Path, size); err != nil {
			return nil, err
		}
		mem = sink.mem
	} else {
		if err := memlimit.Check(fmt.Sprintf("an arena of %d batches (%d nodes, %d edges)", nb, h.totalNodes, h.totalEdges), size); err != nil {
			return nil, err
		}
		if mem, release, err = mapAnon(size); err != nil {
			return nil, err
		}
	}
	a := &Arena{mem: mem, release: release, hdr: h, params: opt.Params}

	// The table, then pass 2: every batch writes its own regions.
	table, cols := a.int64s(secTable), h.tableCols()
	var nodeOff, edgeOff int64
	for b := range nb {
		n := nodePtr[b+1] - nodePtr[b]
		t := table[b*cols : (b+1)*cols]
		t[0], t[2], t[3], t[4] = nodeOff, edgeOff, edgeCnt[b], outPtr[b+1]-outPtr[b]
		if haloCnt != nil {
			t[5] = n
			n += haloCnt[b]
		}
		t[1] = n
		nodeOff += n
		edgeOff += edgeCnt[b]
	}
	nid := a.int64s(secNID)
	inducers := make([]*graph.Inducer, workers)
	err = forWorkers(ctx, nb, workers, func(w, b int) error {
		// Outputs first, then the other nodes; both lists are sorted, so
		// one merge pass splits them and sets the mask.
		o, ns := out[outPtr[b]:outPtr[b+1]], nodes[nodePtr[b]:nodePtr[b+1]]
		dst := nid[table[b*cols]:][:len(ns)]
		copy(dst, o)
		rest, j := len(o), 0
		for _, id := range ns {
			if j < len(o) && o[j] == id {
				j++
				continue
			}
			dst[rest] = id
			rest++
		}
		v := a.view(b)
		if opt.Halo != nil {
			if halos[w] == nil {
				halos[w] = NewHaloInducer(opt.Halo)
			}
			if err := halos[w].Fill(v.NID[:v.NumExact], v.NID[v.NumExact:], v.Src, v.Dst, v.Weight); err != nil {
				return err
			}
		} else {
			if inducers[w] == nil {
				inducers[w] = graph.NewInducer(g)
			}
			if err := induceInto(inducers[w], opt.Norm, v); err != nil {
				return err
			}
		}
		for i := range o {
			v.OutMask[i] = 1
		}
		if opt.Labels != nil {
			for i, id := range v.NID {
				v.Y[i] = opt.Labels[id]
			}
		}
		if opt.X != nil && len(v.NID) > 0 {
			if err := gather.Rows(unsafe.Pointer(&v.X[0]), opt.X, int64(g.NumNodes), opt.RowBytes,
				unsafe.Pointer(&v.NID[0]), int64(len(v.NID))); err != nil {
				return err
			}
		}
		progress()
		return nil
	})
	if err != nil {
		a.Close()
		if sink != nil {
			sink.abort()
		}
		return nil, err
	}
	a.hdr.payloadCRC = crc32.Checksum(a.mem[headerSize:], crcTable)
	a.writeHeader()
	if sink != nil {
		if err := sink.finish(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// induceInto writes the subgraph induced by v's nodes, normalized by norm
// within it, into v's edges.
func induceInto(in *graph.Inducer, norm graph.Norm, v View) error {
	sub, err := in.Induce(v.NID)
	if err != nil {
		return err
	}
	w, err := sub.Normalized(norm)
	if err != nil {
		return err
	}
	for i := 0; i < sub.NumNodes; i++ {
		for k := sub.Indptr[i]; k < sub.Indptr[i+1]; k++ {
			v.Src[k] = int64(i)
			v.Dst[k] = int64(sub.Indices[k])
		}
	}
	copy(v.Weight, w)
	return nil
}

// CheckArenaInputs checks everything BuildArenaContext checks before it
// allocates: the graph, the batch description (pointers first, so no input
// makes it panic; ids in range; nodes sorted and distinct; outputs a sorted
// subset of the nodes), the labels' length, the feature description and the
// parameters' length. Errors wrap graph.ErrValue or graph.ErrIndex.
func CheckArenaInputs(g *graph.CSR, nodePtr, nodes, outPtr, out []int64, opt ArenaOptions) error {
	if g == nil {
		return fmt.Errorf("%w: arena: graph is nil", graph.ErrValue)
	}
	if _, err := checkBatchCSR(g.NumNodes, nodePtr, nodes, outPtr, out); err != nil {
		return err
	}
	if opt.Labels != nil && len(opt.Labels) != g.NumNodes {
		return fmt.Errorf("%w: arena: %d labels for %d nodes", graph.ErrValue, len(opt.Labels), g.NumNodes)
	}
	if opt.X != nil {
		if opt.RowBytes <= 0 || opt.DType == DTypeNone || opt.DType > DTypeBFloat16 {
			return fmt.Errorf("%w: arena: features need row bytes > 0 and a dtype (got %d, %d)", graph.ErrValue, opt.RowBytes, opt.DType)
		}
		if opt.RowBytes%opt.DType.Size() != 0 {
			return fmt.Errorf("%w: arena: feature rows of %d bytes are not whole %d-byte elements", graph.ErrValue, opt.RowBytes, opt.DType.Size())
		}
	}
	if len(opt.Params) > maxParams {
		return fmt.Errorf("%w: arena: parameters text of %d bytes exceeds %d", graph.ErrValue, len(opt.Params), maxParams)
	}
	if opt.Halo != nil {
		if opt.Norm != graph.NormNone {
			return fmt.Errorf("%w: arena: halo batches take their weights from the halo graph; the in-batch norm must be none, got %v", graph.ErrValue, opt.Norm)
		}
		if err := checkHaloGraph(opt.Halo, g.NumNodes); err != nil {
			return err
		}
	}
	return nil
}

// checkBatchCSR validates the batch description and returns the batch
// count. The pointer arrays are checked before any list is sliced with
// them, so no input makes it panic.
func checkBatchCSR(numNodes int, nodePtr, nodes, outPtr, out []int64) (int, error) {
	if len(nodePtr) < 1 || len(outPtr) != len(nodePtr) {
		return 0, fmt.Errorf("%w: arena: node and output pointers need one entry more than there are batches (got %d and %d)", graph.ErrValue, len(nodePtr), len(outPtr))
	}
	if err := checkPtr("arena node", nodePtr, len(nodes)); err != nil {
		return 0, err
	}
	if err := checkPtr("arena output", outPtr, len(out)); err != nil {
		return 0, err
	}
	nb := len(nodePtr) - 1
	n := int64(numNodes)
	for b := range nb {
		ns, os := nodes[nodePtr[b]:nodePtr[b+1]], out[outPtr[b]:outPtr[b+1]]
		for i, v := range ns {
			if v < 0 || v >= n {
				return 0, fmt.Errorf("%w: arena: batch %d has node id %d out of range for %d nodes", graph.ErrIndex, b, v, n)
			}
			if i > 0 && ns[i-1] >= v {
				return 0, fmt.Errorf("%w: arena: batch %d nodes are not sorted and distinct at position %d", graph.ErrValue, b, i)
			}
		}
		j := 0
		for i, v := range os {
			if i > 0 && os[i-1] >= v {
				return 0, fmt.Errorf("%w: arena: batch %d output nodes are not sorted and distinct at position %d", graph.ErrValue, b, i)
			}
			for j < len(ns) && ns[j] < v {
				j++
			}
			if j == len(ns) || ns[j] != v {
				return 0, fmt.Errorf("%w: arena: batch %d output node %d is not among its nodes", graph.ErrValue, b, v)
			}
		}
	}
	return nb, nil
}

// forBatches runs fn for every batch on workers goroutines, each with its
// own Inducer, and returns the first error. It stops handing out batches
// once ctx is cancelled and then returns ctx's error.
func forBatches(ctx context.Context, g *graph.CSR, nb, workers int, fn func(in *graph.Inducer, b int) error) error {
	inducers := make([]*graph.Inducer, max(workers, 1))
	return forWorkers(ctx, nb, workers, func(w, b int) error {
		if inducers[w] == nil {
			inducers[w] = graph.NewInducer(g)
		}
		return fn(inducers[w], b)
	})
}

// forWorkers runs fn(w, b) for every batch b on workers goroutines (w in
// [0, workers) names the goroutine, for per-worker scratch space) and
// returns the first error; it stops once ctx is cancelled and then returns
// ctx's error.
func forWorkers(ctx context.Context, nb, workers int, fn func(w, b int) error) error {
	var mu sync.Mutex
	var first error
	par.For(nb, workers, 1, ctx.Done(), func(w, b, _ int) bool {
		err := fn(w, b)
		if err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
			return false // the other workers stop too
		}
		return true
	})
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// layout fills the section table and returns the total size.
func (h *header) layout() (int64, error) {
	// Every count stays below 2^40 and the feature block below 2^50 bytes,
	// so no size below can overflow int64 (a corrupt header must not wrap).
	const lim, xlim = 1 << 40, 1 << 50
	if h.numNodes > lim || h.totalNodes > lim || h.totalEdges > lim || h.numBatches > lim || h.rowBytes > xlim ||
		(h.rowBytes > 0 && h.totalNodes > 0 && h.rowBytes > xlim/h.totalNodes) {
		return 0, fmt.Errorf("%w: arena: sizes too large (%d batches, %d nodes, %d edges, %d-byte rows)",
			graph.ErrValue, h.numBatches, h.totalNodes, h.totalEdges, h.rowBytes)
	}
	sizes := [numSections]int64{
		secTable:  h.numBatches * int64(h.tableCols()) * 8,
		secNID:    h.totalNodes * 8,
		secMask:   h.totalNodes,
		secEdges:  h.totalEdges * 16,
		secWeight: h.totalEdges * 4,
		secX:      h.totalNodes * h.rowBytes,
	}
	if h.hasLabels {
		sizes[secY] = h.totalNodes * 8
	}
	off := int64(headerSize)
	for s := range numSections {
		h.sec[s].off, h.sec[s].size = off, sizes[s]
		off = alignUp(off + sizes[s])
	}
	return off, nil
}

// tableCols is the number of int64 columns of the batch table.
func (h *header) tableCols() int {
	if h.halo {
		return tableColsHalo
	}
	return tableCols
}

// writeHeader encodes the header into the first headerSize bytes.
func (a *Arena) writeHeader() {
	b := a.mem[:headerSize]
	clear(b)
	le := binary.LittleEndian
	copy(b, arenaMagic)
	if a.hdr.halo {
		le.PutUint32(b[8:], arenaVersionHalo)
	} else {
		le.PutUint32(b[8:], arenaVersion)
	}
	le.PutUint32(b[12:], headerSize)
	h := &a.hdr
	for i, v := range []int64{h.numBatches, h.numNodes, h.totalNodes, h.totalEdges, h.rowBytes} {
		le.PutUint64(b[16+8*i:], uint64(v))
	}
	le.PutUint32(b[56:], uint32(h.dtype))
	le.PutUint32(b[60:], uint32(h.norm))
	if h.hasLabels {
		b[64] = 1
	}
	for s := range numSections {
		le.PutUint64(b[72+16*s:], uint64(h.sec[s].off))
		le.PutUint64(b[80+16*s:], uint64(h.sec[s].size))
	}
	le.PutUint32(b[184:], h.payloadCRC)
	le.PutUint32(b[188:], uint32(len(a.params)))
	copy(b[192:], a.params)
	le.PutUint32(b[headerSize-4:], crc32.Checksum(b[:headerSize-4], crcTable))
}

// section returns the bytes of section s.
func (a *Arena) section(s int) []byte {
	sec := a.hdr.sec[s]
	return a.mem[sec.off : sec.off+sec.size : sec.off+sec.size]
}

func (a *Arena) int64s(s int) []int64 {
	b := a.section(s)
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), len(b)/8)
}

func (a *Arena) float32s(s int) []float32 {
	b := a.section(s)
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// NumBatches returns the number of batches.
func (a *Arena) NumBatches() int { return int(a.hdr.numBatches) }

// NumNodes returns the node count of the graph the batches came from.
func (a *Arena) NumNodes() int { return int(a.hdr.numNodes) }

// Size returns the arena's size in bytes.
func (a *Arena) Size() int64 { return int64(len(a.mem)) }

// Addr returns the address of the arena's first byte (for zero-copy views
// outside Go); valid until Close.
func (a *Arena) Addr() uintptr { return uintptr(unsafe.Pointer(&a.mem[0])) }

// Params returns the parameters text stored with the arena.
func (a *Arena) Params() string { return a.params }

// RowBytes and DType describe the stored feature rows (0 and DTypeNone when
// the arena holds ids only).
func (a *Arena) RowBytes() int64 { return a.hdr.rowBytes }

// DType returns the element type of the stored feature rows.
func (a *Arena) DType() DType { return a.hdr.dtype }

// Norm returns the edge-weight normalization the arena was built with.
func (a *Arena) Norm() graph.Norm { return a.hdr.norm }

// HasLabels reports whether the arena stores labels.
func (a *Arena) HasLabels() bool { return a.hdr.hasLabels }

// HasHalo reports whether the arena holds halo batches (ArenaOptions.Halo).
func (a *Arena) HasHalo() bool { return a.hdr.halo }

// TableCols returns the number of int64 columns per batch of the table
// section: TableCols, plus one (the exact node count) with a halo.
func (a *Arena) TableCols() int { return a.hdr.tableCols() }

// Offsets returns the byte offset of every section from Addr, in the order
// table, nid, outmask, edges, weight, y, x (0 size: absent).
func (a *Arena) Offsets() (off, size [numSections]int64) {
	for s := range numSections {
		off[s], size[s] = a.hdr.sec[s].off, a.hdr.sec[s].size
	}
	return off, size
}

// Batch returns the views of batch b (0 ≤ b < NumBatches, else it panics
// like a slice index).
func (a *Arena) Batch(b int) View { return a.view(b) }

func (a *Arena) view(b int) View {
	cols := a.hdr.tableCols()
	t := a.int64s(secTable)[b*cols : (b+1)*cols]
	o, n, e, m := t[0], t[1], t[2], t[3]
	edges := a.int64s(secEdges)
	v := View{
		NID:     a.int64s(secNID)[o : o+n],
		OutMask: a.section(secMask)[o : o+n],
		Src:     edges[2*e : 2*e+m],
		Dst:     edges[2*e+m : 2*e+2*m],
		Weight:  a.float32s(secWeight)[e : e+m],
		NumOut:  int(t[4]),
	}
	v.NumExact = int(n)
	if a.hdr.halo {
		v.NumExact = int(t[5])
	}
	if a.hdr.hasLabels {
		v.Y = a.int64s(secY)[o : o+n]
	}
	if rb := a.hdr.rowBytes; rb > 0 {
		v.X = a.section(secX)[o*rb : (o+n)*rb]
	}
	return v
}

// Close releases the arena's memory; views must not be used afterwards.
// Closing twice, or closing a nil *Arena, is a no-op. If a WriteFile is
// still reading the arena, the memory is released when it returns.
func (a *Arena) Close() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	busy := a.users > 0
	a.mu.Unlock()
	if busy {
		return nil
	}
	return a.release()
}

// acquire registers a user that reads the arena's memory outside the
// caller's control (a save); it fails once the arena is closed.
func (a *Arena) acquire() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return fmt.Errorf("%w: arena: the arena is closed", graph.ErrValue)
	}
	a.users++
	return nil
}

// unacquire ends a use begun with acquire, releasing the memory if the
// arena was closed meanwhile.
func (a *Arena) unacquire() {
	a.mu.Lock()
	a.users--
	last := a.closed && a.users == 0
	a.mu.Unlock()
	if last {
		_ = a.release()
	}
}

// Materialize is BuildArena for the batches of b.
func (b *Batches) Materialize(g *graph.CSR, opt ArenaOptions) (*Arena, error) {
	return BuildArena(g, b.NodePtr, b.Nodes, b.OutPtr, b.Out, opt)
}
