package batch

import "slices"

// Batches returns the batch description the arena was built from: batch b
// has as outputs the first View.NumOut node ids of its view (ascending, as
// the arena stores them) and as nodes its exact node ids (all of them
// without a halo; a halo is not part of the description), sorted. The result
// is a copy that satisfies the invariants of Batches and can be passed to
// BuildArena or a batch order again; building an arena from it over the
// same graph and options gives the same batches.
//
// It returns an error wrapping graph.ErrValue when the arena is closed.
func (a *Arena) Batches() (*Batches, error) {
	if err := a.acquire(); err != nil {
		return nil, err
	}
	defer a.unacquire()
	nb := a.NumBatches()
	b := &Batches{OutPtr: make([]int64, nb+1), NodePtr: make([]int64, nb+1)}
	for i := range nb {
		v := a.view(i)
		b.OutPtr[i+1] = b.OutPtr[i] + int64(v.NumOut)
		b.NodePtr[i+1] = b.NodePtr[i] + int64(v.NumExact)
	}
	b.Out = make([]int64, b.OutPtr[nb])
	b.Nodes = make([]int64, b.NodePtr[nb])
	for i := range nb {
		v := a.view(i)
		copy(b.Out[b.OutPtr[i]:], v.NID[:v.NumOut])
		nodes := b.Nodes[b.NodePtr[i]:b.NodePtr[i+1]]
		copy(nodes, v.NID[:v.NumExact])
		slices.Sort(nodes)
	}
	return b, nil
}
