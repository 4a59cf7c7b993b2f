package ppr

import (
	"fmt"
	"math"
	"runtime"
	"strings"

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
	// to 1/(Alpha·Eps) neighbour updates per vector.
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
	return fmt.Errorf("%w: ppr: %s", graph.ErrValue, fmt.Sprintf(format, args...))
}

// indexErrorf returns an error wrapping graph.ErrIndex.
func indexErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: ppr: %s", graph.ErrIndex, fmt.Sprintf(format, args...))
}

// checkAlpha reports whether alpha is a usable teleport probability.
func checkAlpha(alpha float64) error {
	if !(alpha > 0 && alpha < 1) {
		return valueErrorf("alpha must lie in (0, 1), got %v", alpha)
	}
	return nil
}

// validate checks the numeric options.
func (opt *Options) validate() error {
	if err := checkAlpha(opt.Alpha); err != nil {
		return err
	}
	if !(opt.Eps > 0) || math.IsInf(opt.Eps, 0) {
		return valueErrorf("eps must be positive and finite, got %v", opt.Eps)
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
