package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/ibmb-dev/ibmb/internal/par"

	"github.com/ibmb-dev/ibmb/gopkg/errs"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// ErrValue is wrapped by every error about a bad configuration value.
var ErrValue = errs.New(errs.Value, "value error")

// Graph is a generated graph: directed edges in COO form, optional dense
// row-major float32 features and one class label per node.
type Graph struct {
	NumNodes    int
	Src, Dst    []int64   // edge i goes Src[i] -> Dst[i]
	X           []float32 // NumNodes*NumFeatures values, row-major; nil if NumFeatures is 0
	NumFeatures int
	Y           []int64 // class of each node, in [0, NumClasses)
	NumClasses  int
}

// CSBM configures a contextual stochastic block model.
type CSBM struct {
	NumNodes    int     // nodes, > 0
	NumClasses  int     // classes, in [1, NumNodes]
	AvgDegree   float64 // directed edges per node, >= 0
	Homophily   float64 // probability that an edge stays inside its class, in [0, 1]
	NumFeatures int     // feature width, >= 0
	Separation  float64 // distance scale between class means in units of the noise, >= 0
	Seed        uint64
}

// DefaultCSBM is the built-in default graph: 100,000 nodes, 10 classes,
// average degree 10, homophily 0.8 and 64 features.
func DefaultCSBM() CSBM {
	return CSBM{NumNodes: 100_000, NumClasses: 10, AvgDegree: 10, Homophily: 0.8,
		NumFeatures: 64, Separation: 1.0, Seed: 0}
}

const chunk = 1 << 14 // work unit of the parallel generators; fixed so output is independent of GOMAXPROCS

// parallelChunks calls fn(c, lo, hi) for every chunk [lo, hi) of [0, n) on
// GOMAXPROCS goroutines.
func parallelChunks(n int, fn func(c, lo, hi int)) {
	nc := (n + chunk - 1) / chunk
	par.For(nc, runtime.GOMAXPROCS(0), 1, nil, func(_, c, _ int) bool {
		fn(c, c*chunk, min(n, (c+1)*chunk))
		return true
	})
}

// rng returns the random stream of one chunk of one phase.
func rng(seed uint64, phase, c int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15*uint64(phase+1), uint64(c)))
}

// Generate builds the graph. Labels are balanced: node v has class v mod
// NumClasses, so every class is present when NumNodes >= NumClasses.
func (cfg CSBM) Generate() (*Graph, error) {
	switch {
	case cfg.NumNodes <= 0:
		return nil, fmt.Errorf("%w: csbm: num_nodes must be > 0, got %d", ErrValue, cfg.NumNodes)
	case cfg.NumClasses < 1 || cfg.NumClasses > cfg.NumNodes:
		return nil, fmt.Errorf("%w: csbm: num_classes must be in [1, num_nodes], got %d", ErrValue, cfg.NumClasses)
	case !(cfg.AvgDegree >= 0) || math.IsInf(cfg.AvgDegree, 0):
		return nil, fmt.Errorf("%w: csbm: avg_degree must be finite and >= 0, got %v", ErrValue, cfg.AvgDegree)
	case !(cfg.Homophily >= 0 && cfg.Homophily <= 1):
		return nil, fmt.Errorf("%w: csbm: homophily must be in [0, 1], got %v", ErrValue, cfg.Homophily)
	case cfg.NumFeatures < 0:
		return nil, fmt.Errorf("%w: csbm: num_features must be >= 0, got %d", ErrValue, cfg.NumFeatures)
	case !(cfg.Separation >= 0) || math.IsInf(cfg.Separation, 0):
		return nil, fmt.Errorf("%w: csbm: separation must be finite and >= 0, got %v", ErrValue, cfg.Separation)
	}
	n, k := cfg.NumNodes, cfg.NumClasses
	m64 := math.Round(float64(n) * cfg.AvgDegree)
	if m64 > 1<<40 {
		return nil, fmt.Errorf("%w: csbm: %v edges is too many", ErrValue, m64)
	}
	m := int(m64)
	if err := checkMemory("csbm", n, m, cfg.NumFeatures, k); err != nil {
		return nil, err
	}
	g := &Graph{NumNodes: n, NumClasses: k, NumFeatures: cfg.NumFeatures,
		Src: make([]int64, m), Dst: make([]int64, m), Y: make([]int64, n)}
	for v := range g.Y {
		g.Y[v] = int64(v % k)
	}
	// Class c holds nodes c, c+k, c+2k, ...: size(c) = ceil((n-c)/k).
	parallelChunks(m, func(c, lo, hi int) {
		r := rng(cfg.Seed, 0, c)
		for i := lo; i < hi; i++ {
			u := r.IntN(n)
			var v int
			if r.Float64() < cfg.Homophily {
				cls := u % k
				size := (n - cls + k - 1) / k
				v = cls + k*r.IntN(size)
			} else {
				v = r.IntN(n)
			}
			g.Src[i], g.Dst[i] = int64(u), int64(v)
		}
	})
	if f := cfg.NumFeatures; f > 0 {
		means := make([]float64, k*f)
		r := rng(cfg.Seed, 1, 0)
		for i := range means {
			means[i] = cfg.Separation * r.NormFloat64()
		}
		g.X = make([]float32, n*f)
		parallelChunks(n, func(c, lo, hi int) {
			r := rng(cfg.Seed, 2, c)
			for v := lo; v < hi; v++ {
				mu := means[(v%k)*f : (v%k+1)*f]
				row := g.X[v*f : (v+1)*f]
				for j := range row {
					row[j] = float32(mu[j] + r.NormFloat64())
				}
			}
		})
	}
	return g, nil
}

// checkMemory checks that a graph of n nodes, m edges and f float32
// features per node (and, for k > 0, k·f float64 class means) fits in the
// memory the machine can give; the error wraps memlimit.ErrMemory and names
// the sizes.
func checkMemory(model string, n, m, f, k int) error {
	total := int64(0)
	for _, p := range [][]int64{{int64(m), 16}, {int64(n), 8}, {int64(n), int64(f), 4}, {int64(k), int64(f), 8}} {
		b, ok := memlimit.Bytes(p...)
		if !ok || b > math.MaxInt64-total {
			total = -1
			break
		}
		total += b
	}
	return memlimit.Check(fmt.Sprintf("%s: a graph of %d nodes, %d edges and %d features per node", model, n, m, f), total)
}

// RMAT configures a recursive-matrix graph with 2^Scale nodes and
// EdgeFactor·2^Scale directed edges. A, B, C (and D = 1-A-B-C) are the
// quadrant probabilities; Graph500 uses 0.57, 0.19, 0.19.
type RMAT struct {
	Scale       int     // log2 of the node count, in [1, 40]
	EdgeFactor  float64 // edges per node, >= 0
	A, B, C     float64
	NumFeatures int // feature width (Gaussian noise features), >= 0
	NumClasses  int // labels drawn uniformly, >= 1
	Seed        uint64
}

// DefaultRMAT returns Graph500's quadrant probabilities at the given scale
// and edge factor, with no features and one class.
func DefaultRMAT(scale int, edgeFactor float64) RMAT {
	return RMAT{Scale: scale, EdgeFactor: edgeFactor, A: 0.57, B: 0.19, C: 0.19, NumClasses: 1}
}

// Generate builds the graph. Node ids are scrambled by a fixed bijection so
// that high-degree nodes are not clustered at small ids.
func (cfg RMAT) Generate() (*Graph, error) {
	d := 1 - cfg.A - cfg.B - cfg.C
	switch {
	case cfg.Scale < 1 || cfg.Scale > 40:
		return nil, fmt.Errorf("%w: rmat: scale must be in [1, 40], got %d", ErrValue, cfg.Scale)
	case !(cfg.EdgeFactor >= 0) || math.IsInf(cfg.EdgeFactor, 0):
		return nil, fmt.Errorf("%w: rmat: edge_factor must be finite and >= 0, got %v", ErrValue, cfg.EdgeFactor)
	case !(cfg.A >= 0 && cfg.B >= 0 && cfg.C >= 0 && d >= -1e-12):
		return nil, fmt.Errorf("%w: rmat: probabilities a, b, c must be >= 0 with a+b+c <= 1, got %v, %v, %v", ErrValue, cfg.A, cfg.B, cfg.C)
	case cfg.NumFeatures < 0:
		return nil, fmt.Errorf("%w: rmat: num_features must be >= 0, got %d", ErrValue, cfg.NumFeatures)
	case cfg.NumClasses < 1:
		return nil, fmt.Errorf("%w: rmat: num_classes must be >= 1, got %d", ErrValue, cfg.NumClasses)
	}
	n := 1 << cfg.Scale
	m64 := math.Round(float64(n) * cfg.EdgeFactor)
	if m64 > 1<<40 {
		return nil, fmt.Errorf("%w: rmat: %v edges is too many", ErrValue, m64)
	}
	m := int(m64)
	if err := checkMemory("rmat", n, m, cfg.NumFeatures, 0); err != nil {
		return nil, err
	}
	g := &Graph{NumNodes: n, NumClasses: cfg.NumClasses, NumFeatures: cfg.NumFeatures,
		Src: make([]int64, m), Dst: make([]int64, m), Y: make([]int64, n)}
	mask := uint64(n - 1)
	// Multiplication by an odd constant modulo 2^Scale is a bijection.
	scramble := func(x uint64) int64 { return int64((x*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019) & mask) }
	ab, abc := cfg.A+cfg.B, cfg.A+cfg.B+cfg.C
	parallelChunks(m, func(c, lo, hi int) {
		r := rng(cfg.Seed, 3, c)
		for i := lo; i < hi; i++ {
			var u, v uint64
			for bit := 0; bit < cfg.Scale; bit++ {
				p := r.Float64()
				u <<= 1
				v <<= 1
				switch {
				case p < cfg.A:
				case p < ab:
					v |= 1
				case p < abc:
					u |= 1
				default:
					u |= 1
					v |= 1
				}
			}
			g.Src[i], g.Dst[i] = scramble(u), scramble(v)
		}
	})
	parallelChunks(n, func(c, lo, hi int) {
		r := rng(cfg.Seed, 4, c)
		for v := lo; v < hi; v++ {
			g.Y[v] = int64(r.IntN(cfg.NumClasses))
		}
	})
	if f := cfg.NumFeatures; f > 0 {
		g.X = make([]float32, n*f)
		parallelChunks(n, func(c, lo, hi int) {
			r := rng(cfg.Seed, 5, c)
			for i := lo * f; i < hi*f; i++ {
				g.X[i] = float32(r.NormFloat64())
			}
		})
	}
	return g, nil
}
