package batch

import (
	"fmt"
	"math/bits"
	"runtime"
	"slices"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Batches is a list of mini-batches in CSR form: batch b has the output
// nodes Out[OutPtr[b]:OutPtr[b+1]] and the nodes
// Nodes[NodePtr[b]:NodePtr[b+1]] (outputs and auxiliary nodes together).
// See the package documentation for the invariants, which Validate checks.
type Batches struct {
	OutPtr  []int64
	Out     []int64
	NodePtr []int64
	Nodes   []int64
}

// NumBatches returns the number of batches.
func (b *Batches) NumBatches() int {
	if len(b.OutPtr) == 0 {
		return 0
	}
	return len(b.OutPtr) - 1
}

// Batch returns the output nodes and all nodes of batch i. Both slices
// alias b and have their capacity clipped. It panics if i is out of
// [0, NumBatches()), like a slice index would.
func (b *Batches) Batch(i int) (out, nodes []int64) {
	olo, ohi := b.OutPtr[i], b.OutPtr[i+1]
	nlo, nhi := b.NodePtr[i], b.NodePtr[i+1]
	return b.Out[olo:ohi:ohi], b.Nodes[nlo:nhi:nhi]
}

// Validate checks the invariants of the package documentation for a graph
// with numNodes nodes and the given output nodes (in any order, repeats
// allowed): the pointer arrays are well formed, every batch has at least
// one output node, its Out is strictly ascending, its Nodes strictly
// ascending and a superset of its Out, every id lies in [0, numNodes), and
// every distinct node of outputs is an output node of exactly one batch
// while no other node is. Errors wrap graph.ErrIndex for ids out of range
// and graph.ErrValue for everything else.
func (b *Batches) Validate(numNodes int, outputs []int64) error {
	if b == nil {
		return valueErrorf("batches are nil")
	}
	if numNodes < 0 {
		return valueErrorf("negative number of nodes %d", numNodes)
	}
	if err := checkPtr("output", b.OutPtr, len(b.Out)); err != nil {
		return err
	}
	if err := checkPtr("node", b.NodePtr, len(b.Nodes)); err != nil {
		return err
	}
	if len(b.OutPtr) != len(b.NodePtr) {
		return valueErrorf("%d output pointers but %d node pointers", len(b.OutPtr), len(b.NodePtr))
	}
	n := int64(numNodes)
	// owner[v] = 0: not an output; 1: expected output, not yet seen;
	// 2: seen as the output of a batch.
	owner := make([]uint8, numNodes)
	for i, v := range outputs {
		if v < 0 || v >= n {
			return indexErrorf("output %d (position %d) is out of range for %d nodes", v, i, numNodes)
		}
		owner[v] = 1
	}
	for bi := range b.NumBatches() {
		out, nodes := b.Batch(bi)
		if len(out) == 0 {
			return valueErrorf("batch %d has no output node", bi)
		}
		for j, v := range nodes {
			if v < 0 || v >= n {
				return indexErrorf("batch %d has node %d out of range for %d nodes", bi, v, numNodes)
			}
			if j > 0 && nodes[j-1] >= v {
				return valueErrorf("nodes of batch %d are not strictly ascending at position %d (%d, %d)", bi, j, nodes[j-1], v)
			}
		}
		k := 0
		for j, v := range out {
			if v < 0 || v >= n {
				return indexErrorf("batch %d has output node %d out of range for %d nodes", bi, v, numNodes)
			}
			if j > 0 && out[j-1] >= v {
				return valueErrorf("output nodes of batch %d are not strictly ascending at position %d (%d, %d)", bi, j, out[j-1], v)
			}
			switch owner[v] {
			case 0:
				return valueErrorf("batch %d has output node %d, which is not an output node", bi, v)
			case 2:
				return valueErrorf("output node %d belongs to more than one batch (again in batch %d)", v, bi)
			}
			owner[v] = 2
			for k < len(nodes) && nodes[k] < v {
				k++
			}
			if k == len(nodes) || nodes[k] != v {
				return valueErrorf("output node %d of batch %d is missing from its nodes", v, bi)
			}
		}
	}
	for v, o := range owner {
		if o == 1 {
			return valueErrorf("output node %d is in no batch", v)
		}
	}
	return nil
}

// checkPtr checks a CSR pointer array over total entries.
func checkPtr(what string, ptr []int64, total int) error {
	if len(ptr) == 0 {
		return valueErrorf("%s pointer is empty", what)
	}
	if ptr[0] != 0 {
		return valueErrorf("%s pointer starts at %d, want 0", what, ptr[0])
	}
	for i := 1; i < len(ptr); i++ {
		if ptr[i] < ptr[i-1] {
			return valueErrorf("%s pointer decreases at %d (%d, %d)", what, i, ptr[i-1], ptr[i])
		}
	}
	if last := ptr[len(ptr)-1]; last != int64(total) {
		return valueErrorf("%s pointer ends at %d but there are %d entries", what, last, total)
	}
	return nil
}

// valueErrorf returns an error wrapping graph.ErrValue.
func valueErrorf(format string, args ...any) error {
	return errs.Errorf(graph.ErrValue, "batch: "+format, args...)
}

// indexErrorf returns an error wrapping graph.ErrIndex.
func indexErrorf(format string, args ...any) error {
	return errs.Errorf(graph.ErrIndex, "batch: "+format, args...)
}

// checkGraphOutputs checks g (non-nil, valid) and the output ids and returns
// the distinct outputs in ascending order.
func checkGraphOutputs(g *graph.CSR, outputs []int64, workers int) ([]int64, error) {
	if g == nil {
		return nil, valueErrorf("graph is nil")
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: batch: invalid graph: %v", graph.ErrValue, err)
	}
	if workers < 0 {
		return nil, valueErrorf("workers must not be negative, got %d", workers)
	}
	if len(outputs) == 0 {
		return nil, valueErrorf("no output nodes")
	}
	n := int64(g.NumNodes)
	for i, v := range outputs {
		if v < 0 || v >= n {
			return nil, indexErrorf("output node %d (position %d) is out of range for %d nodes", v, i, n)
		}
	}
	return distinctSorted(outputs, g.NumNodes), nil
}

// distinctSorted returns the distinct values of ids (all in [0, n)) in
// ascending order, without modifying ids. It uses a bitmap when ids is
// large relative to n and a sort otherwise.
func distinctSorted(ids []int64, n int) []int64 {
	if len(ids) >= n/16 {
		seen := make([]uint64, (n+63)/64)
		for _, v := range ids {
			seen[v>>6] |= 1 << (uint(v) & 63)
		}
		out := make([]int64, 0, min(len(ids), n))
		for w, word := range seen {
			for word != 0 {
				t := word & -word
				out = append(out, int64(w)*64+int64(bits.TrailingZeros64(t)))
				word ^= t
			}
		}
		return out
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// numWorkers resolves a Workers option (0 = GOMAXPROCS) for tasks tasks.
func numWorkers(w, tasks int) int {
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, tasks))
}

// parallelFor calls fn(w, i) for every i in [0, n) on workers goroutines;
// w identifies the worker, so fn may use per-worker scratch space. Tasks
// are handed out in chunks of 16 (par.For).
func parallelFor(n, workers int, fn func(w, i int)) {
	parallelForStop(n, workers, nil, fn)
}

// unionBuilder gathers the union of several id lists with a stamp array,
// so that no maps are used; one per worker.
type unionBuilder struct {
	stamp []uint32
	epoch uint32
	buf   []int64
}

func newUnionBuilder(n int) *unionBuilder { return &unionBuilder{stamp: make([]uint32, n)} }

// reset starts a new union.
func (u *unionBuilder) reset() {
	u.epoch++
	if u.epoch == 0 {
		clear(u.stamp)
		u.epoch = 1
	}
	u.buf = u.buf[:0]
}

// add adds node v to the current union.
func (u *unionBuilder) add(v int64) {
	if u.stamp[v] != u.epoch {
		u.stamp[v] = u.epoch
		u.buf = append(u.buf, v)
	}
}

// sorted returns a sorted copy of the current union.
func (u *unionBuilder) sorted() []int64 {
	out := slices.Clone(u.buf)
	slices.Sort(out)
	return out
}

// assemble concatenates per-batch output and node lists into Batches.
func assemble(outs, nodes [][]int64) *Batches {
	b := &Batches{OutPtr: make([]int64, len(outs)+1), NodePtr: make([]int64, len(outs)+1)}
	for i := range outs {
		b.OutPtr[i+1] = b.OutPtr[i] + int64(len(outs[i]))
		b.NodePtr[i+1] = b.NodePtr[i] + int64(len(nodes[i]))
	}
	b.Out = make([]int64, 0, b.OutPtr[len(outs)])
	b.Nodes = make([]int64, 0, b.NodePtr[len(outs)])
	for i := range outs {
		b.Out = append(b.Out, outs[i]...)
		b.Nodes = append(b.Nodes, nodes[i]...)
	}
	return b
}
