package bindings

import (
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

// SynthCSBM generates a contextual stochastic block model graph (see
// gopkg/synth) and returns its handle.
func SynthCSBM(numNodes, numClasses int, avgDegree, homophily float64, numFeatures int, separation float64, seed int) (h int, err error) {
	defer guard(&err)
	g, err := synth.CSBM{NumNodes: numNodes, NumClasses: numClasses, AvgDegree: avgDegree, Homophily: homophily,
		NumFeatures: numFeatures, Separation: separation, Seed: uint64(seed)}.Generate()
	if err != nil {
		return 0, err
	}
	return put(g), nil
}

// SynthRMAT generates an R-MAT graph with 2^scale nodes (see gopkg/synth)
// and returns its handle.
func SynthRMAT(scale int, edgeFactor, a, b, c float64, numFeatures, numClasses, seed int) (h int, err error) {
	defer guard(&err)
	g, err := synth.RMAT{Scale: scale, EdgeFactor: edgeFactor, A: a, B: b, C: c,
		NumFeatures: numFeatures, NumClasses: numClasses, Seed: uint64(seed)}.Generate()
	if err != nil {
		return 0, err
	}
	return put(g), nil
}

// SynthShape writes the node, edge, feature and class counts of generated
// graph h as four int64 values at out.
func SynthShape(h int, out uintptr) (err error) {
	defer guard(&err)
	g, err := get[*synth.Graph](h)
	if err != nil {
		return err
	}
	return putInts(out, int64(g.NumNodes), int64(len(g.Src)), int64(g.NumFeatures), int64(g.NumClasses))
}

// SynthCopy copies graph h into Python buffers: edgeIndex receives 2·E int64
// (sources then targets, PyG's edge_index), x NumNodes·NumFeatures float32
// (skipped when 0) and y NumNodes int64 (skipped when 0).
func SynthCopy(h int, edgeIndex, x, y uintptr) (err error) {
	defer guard(&err)
	g, err := get[*synth.Graph](h)
	if err != nil {
		return err
	}
	e := len(g.Src)
	if e > 0 {
		if edgeIndex == 0 {
			return argErr("edge_index buffer is null")
		}
		ei := unsafe.Slice((*int64)(ptr(edgeIndex)), 2*e)
		copy(ei[:e], g.Src)
		copy(ei[e:], g.Dst)
	}
	if x != 0 && len(g.X) > 0 {
		copy(unsafe.Slice((*float32)(ptr(x)), len(g.X)), g.X)
	}
	if y != 0 {
		copy(unsafe.Slice((*int64)(ptr(y)), len(g.Y)), g.Y)
	}
	return nil
}
