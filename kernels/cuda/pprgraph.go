package cuda

/*
#include "cuda_shim.h"
*/
import "C"

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Device graph cache
//
// PPRPush copies the CSR to the device once and keeps it there for later
// calls on the same graph, keyed by device and by the address and length of
// the indptr and indices slices. The cache keeps a reference to both slices,
// so their memory cannot be freed and reused for another graph while the
// entry exists. A cheap fingerprint (lengths and a few dozen sampled
// entries) is compared on every hit, and a mismatch drops the entry and
// uploads again; this catches most, not all, in-place modifications, so a
// caller that modifies a graph's arrays in place must call FreeGraphCache
// before using it again. At most pprMaxCachedGraphs graphs are kept per
// device (least recently used ones go first), and cached graphs that are not
// in use are dropped when an upload runs out of memory.

const pprMaxCachedGraphs = 4

type graphKey struct {
	dev      int
	indptr   *int64
	nIndptr  int
	indices  *int32
	nIndices int
}

// devGraph is a graph in device memory: indptr (n+1 int64), indices (int32)
// and deg (n int32).
type devGraph struct {
	key                  graphKey
	n                    int
	indptr, indices, deg C.ibmb_CUdeviceptr
	fp                   uint64
	hostIndptr           []int64 // keep the host arrays alive (see above)
	hostIndices          []int32
	refs                 int    // calls using it
	cached               bool   // in graphCache
	lastUse              uint64 // graphClock at the last acquire
}

var (
	graphMu      sync.Mutex
	graphCache   = map[graphKey]*devGraph{}
	graphClock   uint64
	graphUploads atomic.Int64 // number of uploads (tests)
)

// graphFingerprint hashes the lengths and up to 64 evenly spaced entries of
// each array (FNV-1a over 64-bit words).
func graphFingerprint(indptr []int64, indices []int32) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		h ^= v
		h *= 1099511628211
	}
	mix(uint64(len(indptr)))
	mix(uint64(len(indices)))
	const samples = 64
	for i := range samples {
		if len(indptr) > 0 {
			mix(uint64(indptr[i*(len(indptr)-1)/(samples-1)]))
		}
		if len(indices) > 0 {
			mix(uint64(indices[i*(len(indices)-1)/(samples-1)]))
		}
	}
	return h
}

// free releases the device memory (caller: inside withDevice(g.key.dev)).
func (g *devGraph) free() {
	for _, p := range []C.ibmb_CUdeviceptr{g.indptr, g.indices, g.deg} {
		if p != 0 {
			C.ibmb_cuMemFree(p)
		}
	}
	g.indptr, g.indices, g.deg = 0, 0, 0
}

// acquireGraph returns the device copy of the graph on d, uploading it
// when it is not cached (caller: inside withDevice). The caller must
// releaseGraph it.
func acquireGraph(d *deviceState, indptr []int64, indices []int32) (*devGraph, bool, error) {
	key := graphKey{dev: d.ordinal, indptr: unsafe.SliceData(indptr), nIndptr: len(indptr),
		indices: unsafe.SliceData(indices), nIndices: len(indices)}
	fp := graphFingerprint(indptr, indices)
	var drop []*devGraph
	graphMu.Lock()
	if g, ok := graphCache[key]; ok {
		if g.fp == fp {
			g.refs++
			graphClock++
			g.lastUse = graphClock
			graphMu.Unlock()
			return g, false, nil
		}
		drop = append(drop, uncacheLocked(g)...)
	}
	graphMu.Unlock()
	freeAll(drop)

	g, err := uploadGraph(d, key, fp, indptr, indices)
	if errors.Is(err, ErrCUDA) {
		// Possibly out of memory: drop the unused cached graphs of this
		// device and try once more.
		graphMu.Lock()
		drop = drop[:0]
		for _, other := range graphCache {
			if other.key.dev == d.ordinal && other.refs == 0 {
				drop = append(drop, uncacheLocked(other)...)
			}
		}
		graphMu.Unlock()
		if len(drop) > 0 {
			freeAll(drop)
			g, err = uploadGraph(d, key, fp, indptr, indices)
		}
	}
	if err != nil {
		return nil, false, err
	}

	graphMu.Lock()
	drop = drop[:0]
	if old, ok := graphCache[key]; ok { // uploaded concurrently by another call
		drop = append(drop, uncacheLocked(old)...)
	}
	for {
		var oldest *devGraph
		count := 0
		for _, other := range graphCache {
			if other.key.dev != d.ordinal {
				continue
			}
			count++
			if other.refs == 0 && (oldest == nil || other.lastUse < oldest.lastUse) {
				oldest = other
			}
		}
		if count < pprMaxCachedGraphs || oldest == nil {
			break
		}
		drop = append(drop, uncacheLocked(oldest)...)
	}
	g.refs = 1
	g.cached = true
	graphClock++
	g.lastUse = graphClock
	graphCache[g.key] = g
	graphMu.Unlock()
	freeAll(drop)
	return g, true, nil
}

// uncacheLocked removes g from the cache (graphMu held) and returns it when
// it can be freed now; otherwise the last releaseGraph frees it.
func uncacheLocked(g *devGraph) []*devGraph {
	if graphCache[g.key] == g {
		delete(graphCache, g.key)
	}
	g.cached = false
	if g.refs == 0 {
		return []*devGraph{g}
	}
	return nil
}

func freeAll(gs []*devGraph) {
	for _, g := range gs {
		g.free()
	}
}

// releaseGraph ends a use of g (caller: inside withDevice(g.key.dev)).
func releaseGraph(g *devGraph) {
	graphMu.Lock()
	g.refs--
	free := g.refs == 0 && !g.cached
	graphMu.Unlock()
	if free {
		g.free()
	}
}

// uploadGraph validates the graph and copies it to the device, with the
// degree array the kernels use for the push thresholds.
func uploadGraph(d *deviceState, key graphKey, fp uint64, indptr []int64, indices []int32) (*devGraph, error) {
	n := len(indptr) - 1
	deg := make([]int32, n)
	for u := range n {
		lo, hi := indptr[u], indptr[u+1]
		if hi < lo {
			return nil, newErr(ErrValue, "cuda: ppr: invalid graph: indptr decreases at node %d (%d, %d)", u, lo, hi)
		}
		if hi-lo > math.MaxInt32 {
			return nil, newErr(ErrValue, "cuda: ppr: node %d has %d edges, more than int32 degrees allow", u, hi-lo)
		}
		deg[u] = int32(hi - lo)
	}
	for j, v := range indices {
		if v < 0 || int(v) >= n {
			return nil, newErr(ErrValue, "cuda: ppr: invalid graph: indices[%d] = %d is out of range for %d nodes", j, v, n)
		}
	}
	g := &devGraph{key: key, n: n, fp: fp, hostIndptr: indptr, hostIndices: indices}
	var arena devArena
	var err error
	if g.indptr, err = arena.alloc("graph indptr", int64(n+1)*8); err == nil {
		if g.indices, err = arena.alloc("graph indices", int64(len(indices))*4); err == nil {
			g.deg, err = arena.alloc("graph degrees", int64(n)*4)
		}
	}
	if err == nil {
		if err = htod("graph indptr", g.indptr, indptr); err == nil {
			if err = htod("graph indices", g.indices, indices); err == nil {
				err = htod("graph degrees", g.deg, deg)
			}
		}
	}
	if err != nil {
		arena.free()
		return nil, err
	}
	graphUploads.Add(1)
	return g, nil
}

// FreeGraphCache drops every graph PPRPush has cached in device memory, on
// all devices, and frees their memory (graphs in use by a running call are
// freed when it finishes). Call it to reclaim device memory, or after
// modifying a graph's arrays in place.
func FreeGraphCache() error {
	graphMu.Lock()
	byDev := map[int][]*devGraph{}
	for _, g := range graphCache {
		if gs := uncacheLocked(g); len(gs) > 0 {
			byDev[g.key.dev] = append(byDev[g.key.dev], gs...)
		}
	}
	graphMu.Unlock()
	var first error
	for dev, gs := range byDev {
		err := withDevice(dev, func(*deviceState) error {
			freeAll(gs)
			return nil
		})
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// cachedGraphs returns the number of graphs in the cache (tests).
func cachedGraphs() int {
	graphMu.Lock()
	defer graphMu.Unlock()
	return len(graphCache)
}
