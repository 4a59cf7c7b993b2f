package ppr

import (
	"math"
	"runtime"
	"strings"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Options controls NodeWise and SetWise.
type Options struct {
	// Alpha is the teleport (restart) probability, in the open interval
	// (0, 1). IBMB uses 0.25; PyG's get_ppr defaults to 0.2.
	Alpha float64

	// Eps is the push threshold: a node u is pushed while its residual is
	// at least Eps·deg(u). It must be positive and finite. Smaller values
	// give more accurate vectors with more nonzero entries at a cost of up
	// to 1/(Alpha·Eps) neighbour updates per vector, which must not exceed
	// MaxWork (see CheckParams).
	Eps float64

	// TopK, when positive, keeps only the TopK largest entries of every
	// vector. Zero or negative keeps every positive entry.
	TopK int

	// Workers is the number of goroutines that compute vectors; 0 means
	// runtime.GOMAXPROCS(0), and negative values are an error. It never
	// changes the result.
	Workers int

	// Progress, if not nil, is called with the number of vectors finished
	// so far and the total, about every 1% of the work, the last call
	// having done == total: at most 101 calls in all, with increasing
	// done. The calls are made one at a time on the goroutine that called
	// NodeWise or SetWise (the workers run on other goroutines meanwhile).
	Progress func(done, total int)

	// Order is the order in which queued nodes are pushed: OrderFIFO (the
	// zero value, oldest first) or OrderLIFO (newest first, the order of
	// PyTorch Geometric's get_ppr, whose output it then reproduces up to
	// float rounding). Both satisfy the same error bound; FIFO usually
	// needs fewer pushes. The GPU push has an order of its own and rejects
	// OrderLIFO.
	Order Order

	// Device selects where the vectors are computed: the CPU (the zero
	// value) or a CUDA device.
	Device Device

	// noRelabel turns off the renumbering for cache locality (tests use it
	// to check that renumbering does not change results).
	noRelabel bool
}

// Order is the push order of the work queue; see Options.Order.
type Order int

const (
	// OrderFIFO pushes the node queued longest ago first.
	OrderFIFO Order = iota
	// OrderLIFO pushes the node queued last first, as PyG's get_ppr does.
	OrderLIFO
)

// Device names where the push runs. The zero value is the CPU.
type Device struct {
	// CUDA selects the GPU push on CUDA device Ordinal. Its vectors obey
	// the same error bound as the CPU's but are not bit-identical to them,
	// nor from run to run (parallel pushes in rounds, atomic additions).
	// Vectors whose GPU workspace overflows are recomputed on the CPU.
	CUDA    bool
	Ordinal int
}

// valueErrorf returns an error wrapping graph.ErrValue.
func valueErrorf(format string, args ...any) error {
	return errs.Errorf(graph.ErrValue, "ppr: "+format, args...)
}

// indexErrorf returns an error wrapping graph.ErrIndex.
func indexErrorf(format string, args ...any) error {
	return errs.Errorf(graph.ErrIndex, "ppr: "+format, args...)
}

// checkAlpha reports whether alpha is a usable teleport probability.
func checkAlpha(alpha float64) error {
	if !(alpha > 0 && alpha < 1) {
		return valueErrorf("alpha must lie in (0, 1), got %v", alpha)
	}
	return nil
}

// MaxWork is the largest admissible bound 1/(alpha·eps) on the neighbour
// updates of one PPR vector (see the package documentation, "Work bound").
// At a few nanoseconds per update on a large graph it allows up to about a
// minute per vector; the defaults of IBMB (alpha 0.25, eps 1e-4 … 2e-4) and
// of PyG's get_ppr (alpha 0.2, eps 1e-5) need 2e4 to 5e5.
const MaxWork = 1e10

// CheckParams returns an error wrapping graph.ErrValue unless alpha and eps
// are usable push parameters: alpha in (0, 1), eps positive and finite, and
// the work bound 1/(alpha·eps) at most MaxWork, that is alpha·eps ≥ 1e-10.
// Parameters beyond the bound would run for hours per vector on a large
// graph (alpha 1e-9 with eps 1e-5: 1e14 updates), and an eps near the
// smallest float64 never lets the push terminate. NodeWise and SetWise call
// it; it is exported so that callers can validate parameters up front.
func CheckParams(alpha, eps float64) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return valueErrorf("eps must be positive and finite, got %v", eps)
	}
	// alpha·eps may underflow to 0, making the bound +Inf: rejected too.
	if bound := 1 / (alpha * eps); !(bound <= MaxWork) {
		return valueErrorf("alpha %v with eps %v allows up to 1/(alpha·eps) = %.3g neighbour updates per vector, "+
			"more than the limit %.0e: choose alpha·eps >= %.0e (for alpha %v, eps >= %.3g; "+
			"usual values are alpha 0.1 to 0.3 with eps 1e-7 to 1e-3)",
			alpha, eps, bound, MaxWork, 1/MaxWork, alpha, 1/(MaxWork*alpha))
	}
	return nil
}

// validate checks the numeric options.
func (opt *Options) validate() error {
	if err := CheckParams(opt.Alpha, opt.Eps); err != nil {
		return err
	}
	if opt.Workers < 0 {
		return valueErrorf("workers must not be negative, got %d", opt.Workers)
	}
	if opt.Order != OrderFIFO && opt.Order != OrderLIFO {
		return valueErrorf("unknown push order %d", opt.Order)
	}
	if opt.Device.CUDA {
		if opt.Device.Ordinal < 0 {
			return valueErrorf("CUDA device ordinal must not be negative, got %d", opt.Device.Ordinal)
		}
		if opt.Order == OrderLIFO {
			return valueErrorf("the LIFO push order is available on the CPU only")
		}
	}
	return nil
}

// numWorkers returns the number of goroutines to use for tasks vectors.
func (opt *Options) numWorkers(tasks int) int {
	w := opt.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, tasks))
}

// checkGraph returns an ErrValue error unless g is a valid CSR.
func checkGraph(g *graph.CSR) error {
	if g == nil {
		return valueErrorf("graph is nil")
	}
	if err := g.Validate(); err != nil {
		msg := err.Error()
		for _, e := range []error{graph.ErrValue, graph.ErrIndex} {
			msg = strings.TrimPrefix(msg, e.Error()+": ")
		}
		return valueErrorf("invalid graph: %s", msg)
	}
	return nil
}
