package bindings

import (
	"sync"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// GraphHalo returns the handle of the in-edge graph of graph gh with the
// full graph's weights (batch.HaloGraph): row v lists the sources of v's
// in-edges (repeats merged, a self-loop per node when selfLoops), weighted
// by norm ("sym", "rw" or "none") with in-degrees. Halo arenas
// (ArenaBuildHaloJob) and halo inducers (HaloInducerNew) take their edges
// from it.
func GraphHalo(gh int, norm string, selfLoops bool) (h int, err error) {
	defer guard(&err)
	g, err := get[*graph.CSR](gh)
	if err != nil {
		return 0, err
	}
	nm, err := graph.ParseNorm(norm)
	if err != nil {
		return 0, err
	}
	hg, err := batch.HaloGraph(g, nm, selfLoops)
	if err != nil {
		return 0, err
	}
	return put(hg), nil
}

// haloInducer is a batch.HaloInducer that several Python threads may call.
type haloInducer struct {
	mu sync.Mutex
	in *batch.HaloInducer
}

// HaloInducerNew returns the handle of a halo inducer over the in-edge graph
// hgh (GraphHalo): it builds the halo batch of any node set (see
// HaloInducerRun). It holds a map of NumNodes int32.
func HaloInducerNew(hgh int) (h int, err error) {
	defer guard(&err)
	g, err := get[*graph.CSR](hgh)
	if err != nil {
		return 0, err
	}
	return put(&haloInducer{in: batch.NewHaloInducer(g)}), nil
}

// HaloInducerRun builds, on halo inducer h, the halo batch of the n
// distinct int64 node ids at nodes (the exact nodes, local ids 0 … n-1 in
// their order): it writes the halo size and the edge count m as two int64
// at counts; when they fit (halo size ≤ capHalo, m ≤ capEdges) it also
// writes the halo ids, ascending, at halo, the local sources and then the
// local targets of the exact nodes' in-edges (2m int64 at edges, which holds
// 2·capEdges) and their weights (m float32 at weight); otherwise nothing
// else is written and the caller asks again with room for the counts.
func HaloInducerRun(h int, nodes uintptr, n int, halo uintptr, capHalo int, edges, weight uintptr, capEdges int,
	counts uintptr) (err error) {
	defer guard(&err)
	hi, err := get[*haloInducer](h)
	if err != nil {
		return err
	}
	if capHalo < 0 || capHalo > maxElems || capEdges < 0 || capEdges > maxElems {
		return argErr("capacities %d (halo), %d (edges) out of range", capHalo, capEdges)
	}
	var ns, hs, e []int64
	var w []float32
	if err := viewAll(at(&ns, nodes, n), at(&hs, halo, capHalo), at(&e, edges, 2*capEdges), at(&w, weight, capEdges)); err != nil {
		return err
	}
	hi.mu.Lock()
	defer hi.mu.Unlock()
	nh, m, err := hi.in.Count(ns)
	if err != nil {
		return err
	}
	if err := putInts(counts, int64(nh), int64(m)); err != nil {
		return err
	}
	if nh > capHalo || m > capEdges {
		return nil
	}
	return hi.in.Fill(ns, hs[:nh], e[:m], e[m:2*m], w[:m])
}
