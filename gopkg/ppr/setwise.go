package ppr

import (
	"context"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// SetWise computes one topic-sensitive PPR vector per target set, the sets
// given in CSR form: set i is setNodes[setPtr[i]:setPtr[i+1]], so setPtr
// has one entry more than there are sets, starts at 0, never decreases and
// ends at len(setNodes). The teleport distribution of set i is uniform over
// its distinct nodes (a node listed twice counts once), every one of which
// is pushed at least once. Row i of the Result holds the opt.TopK largest
// entries of the vector of set i (all positive entries when opt.TopK ≤ 0).
// For sets of one node each this is NodeWise.
//
// The weights of g, if any, are ignored. Errors wrap graph.ErrValue for a
// nil or invalid g, invalid options, a malformed setPtr, no sets at all or
// an empty set (naming it), and graph.ErrIndex for a node id out of
// [0, g.NumNodes), naming its set and position.
func SetWise(g *graph.CSR, setPtr, setNodes []int64, opt Options) (*Result, Stats, error) {
	return SetWiseContext(context.Background(), g, setPtr, setNodes, opt)
}

// SetWiseContext is SetWise stopping early when ctx is cancelled: it then
// returns, within milliseconds and with all its goroutines finished, an
// error wrapping ctx.Err() and no Result (also when the cancellation comes
// during its last steps).
func SetWiseContext(ctx context.Context, g *graph.CSR, setPtr, setNodes []int64, opt Options) (*Result, Stats, error) {
	if err := opt.validate(); err != nil {
		return nil, Stats{}, err
	}
	if err := checkGraph(g); err != nil {
		return nil, Stats{}, err
	}
	if len(setPtr) < 2 {
		return nil, Stats{}, valueErrorf("no target sets (set pointer has length %d)", len(setPtr))
	}
	if setPtr[0] != 0 {
		return nil, Stats{}, valueErrorf("set pointer starts at %d, want 0", setPtr[0])
	}
	if last := setPtr[len(setPtr)-1]; last != int64(len(setNodes)) {
		return nil, Stats{}, valueErrorf("set pointer ends at %d but there are %d set nodes", last, len(setNodes))
	}
	n := int64(g.NumNodes)
	for i := range len(setPtr) - 1 {
		lo, hi := setPtr[i], setPtr[i+1]
		if hi < lo || hi > int64(len(setNodes)) {
			return nil, Stats{}, valueErrorf("set pointer is not non-decreasing within [0, %d] at set %d: %d, %d", len(setNodes), i, lo, hi)
		}
		if hi == lo {
			return nil, Stats{}, valueErrorf("target set %d is empty", i)
		}
		for j, s := range setNodes[lo:hi] {
			if s < 0 || s >= n {
				return nil, Stats{}, indexErrorf("target set %d has node %d (at position %d) out of range for %d nodes", i, s, j, n)
			}
		}
	}
	return run(ctx, g, teleports{ptr: setPtr, nodes: setNodes}, opt)
}

// SetWiseLists is SetWise with the target sets given as a slice of slices:
// row i of the Result belongs to sets[i]. It flattens the sets and calls
// SetWise, so the same errors apply.
func SetWiseLists(g *graph.CSR, sets [][]int64, opt Options) (*Result, Stats, error) {
	ptr := make([]int64, len(sets)+1)
	for i, s := range sets {
		ptr[i+1] = ptr[i] + int64(len(s))
	}
	nodes := make([]int64, 0, ptr[len(sets)])
	for _, s := range sets {
		nodes = append(nodes, s...)
	}
	return SetWise(g, ptr, nodes, opt)
}
