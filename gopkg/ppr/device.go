package ppr

import (
	"context"
	"fmt"
	"sync"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// DeviceBackend runs the push on an accelerator. Package ppr holds no
// device code of its own (it builds without cgo); a backend is registered
// with SetCUDABackend, for CUDA by importing package gopkg/ppr/pprcuda
// (which the bindings do). With none registered, a GPU push fails with an
// error of kind errs.Unavailable.
type DeviceBackend interface {
	// Push computes on device ordinal the PPR vector of each target set:
	// set i is setNodes[setPtr[i]:setPtr[i+1]], teleporting uniformly over
	// its nodes, over g's edges (g.Indptr[:g.NumNodes+1], g.Indices). The
	// rows of the result follow Result's layout and order and obey the push
	// guarantee for opt.Alpha and opt.Eps, truncated to opt.TopK entries
	// when it is positive. Sets whose vector did not fit in the device's
	// workspace have empty rows and are listed, ascending, in
	// DeviceResult.Overflowed; ppr recomputes them on the CPU.
	//
	// Errors wrap errs.Unavailable when no device can be used,
	// errs.Value or errs.Index for inputs the device path cannot take, and
	// ctx.Err() when ctx is cancelled. g, setPtr and setNodes are
	// validated by the caller and must not be kept after Push returns.
	Push(ctx context.Context, ordinal int, g *graph.CSR, setPtr, setNodes []int64, opt DeviceOptions) (*DeviceResult, error)
}

// DeviceOptions are the push parameters passed to a DeviceBackend.
type DeviceOptions struct {
	// Alpha is the teleport probability, Eps the push threshold per unit
	// of degree (see Options).
	Alpha, Eps float64
	// TopK > 0 keeps each row's TopK largest entries; 0 keeps them all.
	TopK int
}

// DeviceResult is what a DeviceBackend computed.
type DeviceResult struct {
	// Result holds one row per set; overflowed sets have empty rows.
	Result
	// Overflowed lists, ascending, the sets to recompute on the CPU.
	Overflowed []int
	// Stats counts the device's pushes.
	Stats Stats
}

var cudaBackend struct {
	sync.Mutex
	b DeviceBackend
}

// SetCUDABackend registers b as the backend of Device{CUDA: true} and
// returns the one it replaces (nil if none). A nil b unregisters. Package
// gopkg/ppr/pprcuda registers the CUDA kernels when imported; tests
// register fakes.
func SetCUDABackend(b DeviceBackend) DeviceBackend {
	cudaBackend.Lock()
	defer cudaBackend.Unlock()
	old := cudaBackend.b
	cudaBackend.b = b
	return old
}

// errNoBackend is the error of a GPU push with no backend registered.
var errNoBackend = fmt.Errorf("%w: ppr: no CUDA backend is registered (import gopkg/ppr/pprcuda in a cgo build)", errs.Unavailable)

// run computes the vectors of t on the device opt names, stopping early
// with an error wrapping ctx.Err() when ctx is cancelled; a call cancelled
// at any time before it returns reports the cancellation. g, t and opt must
// have been validated.
func run(ctx context.Context, g *graph.CSR, t teleports, opt Options) (*Result, Stats, error) {
	if ctx.Err() != nil {
		return nil, Stats{}, canceled(ctx)
	}
	var res *Result
	var st Stats
	var err error
	if !opt.Device.CUDA {
		var ok bool
		if res, st, ok = compute(g, t, opt, ctx.Done()); !ok {
			return nil, Stats{}, canceled(ctx)
		}
	} else if res, st, err = computeDevice(ctx, g, t, opt); err != nil {
		return nil, Stats{}, err
	}
	if ctx.Err() != nil {
		// Cancelled during the last steps, which do not look: the caller
		// asked to stop, so report it rather than a late result.
		return nil, Stats{}, canceled(ctx)
	}
	return res, st, nil
}

// canceled is the error of a call stopped because ctx was cancelled.
func canceled(ctx context.Context) error {
	return fmt.Errorf("ppr: %w", ctx.Err())
}

// computeDevice runs the push on the registered CUDA backend, device
// opt.Device.Ordinal, and recomputes on the CPU the vectors whose device
// workspace overflowed. Errors wrap errs.Unavailable when no device can be
// used (the caller may fall back to the CPU), graph.ErrValue for inputs the
// device path cannot take, and ctx.Err() when ctx is cancelled; other
// backend errors are returned as they are.
func computeDevice(ctx context.Context, g *graph.CSR, t teleports, opt Options) (*Result, Stats, error) {
	cudaBackend.Lock()
	b := cudaBackend.b
	cudaBackend.Unlock()
	if b == nil {
		return nil, Stats{}, errNoBackend
	}
	if opt.Progress != nil {
		opt.Progress(0, t.len())
	}
	res, err := b.Push(ctx, opt.Device.Ordinal, g, t.ptr, t.nodes, DeviceOptions{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.TopK})
	if err != nil {
		if ctx.Err() != nil {
			return nil, Stats{}, canceled(ctx)
		}
		if k := errs.KindOf(err); k == errs.Value || k == errs.Index {
			// ppr's own checks passed, so this is a limit of the device path.
			return nil, Stats{}, fmt.Errorf("%w: ppr: GPU push: %v", graph.ErrValue, err)
		}
		return nil, Stats{}, err
	}
	if res == nil || res.NumRows() != t.len() {
		return nil, Stats{}, fmt.Errorf("%w: ppr: GPU push returned %d rows for %d sets", errs.Internal, rowsOf(res), t.len())
	}
	st := res.Stats
	if len(res.Overflowed) > 0 {
		sub := teleports{ptr: []int64{0}}
		for _, i := range res.Overflowed {
			if i < 0 || i >= t.len() {
				return nil, Stats{}, fmt.Errorf("%w: ppr: GPU push reports set %d overflowed of %d", errs.Internal, i, t.len())
			}
			sub.nodes = append(sub.nodes, t.set(i)...)
			sub.ptr = append(sub.ptr, int64(len(sub.nodes)))
		}
		cpuOpt := opt
		cpuOpt.Device, cpuOpt.Progress = Device{}, nil
		cpu, cst, ok := compute(g, sub, cpuOpt, ctx.Done())
		if !ok {
			return nil, Stats{}, canceled(ctx)
		}
		if err := res.Result.ReplaceRows(res.Overflowed, cpu); err != nil {
			return nil, Stats{}, fmt.Errorf("%w: %v", errs.Internal, err)
		}
		st.Pushes += cst.Pushes
		st.EdgePushes += cst.EdgePushes
	}
	if opt.Progress != nil {
		opt.Progress(t.len(), t.len())
	}
	out := res.Result
	return &out, st, nil
}

func rowsOf(r *DeviceResult) int {
	if r == nil {
		return 0
	}
	return r.NumRows()
}

// ReplaceRows puts the rows of sub into r: row j of sub becomes row rows[j]
// of r, the other rows of r are kept. rows must be distinct and in
// [0, r.NumRows()), sub must have len(rows) rows, and both must be well
// formed (Indptr starting at 0, never decreasing, ending at len(Nodes) ==
// len(Scores)); otherwise r is left unchanged and the error wraps
// graph.ErrValue. The GPU push uses it to splice in the CPU's rows for the
// sets whose device workspace overflowed.
func (r *Result) ReplaceRows(rows []int, sub *Result) error {
	bad := func(format string, args ...any) error {
		return valueErrorf("ReplaceRows: "+format, args...)
	}
	if err := r.checkShape("result"); err != nil {
		return bad("%v", err)
	}
	if err := sub.checkShape("replacement"); err != nil {
		return bad("%v", err)
	}
	nrows := r.NumRows()
	if sub.NumRows() != len(rows) {
		return bad("%d replacement rows for %d row numbers", sub.NumRows(), len(rows))
	}
	repl := make(map[int]int, len(rows))
	for j, row := range rows {
		if row < 0 || row >= nrows {
			return bad("row %d out of range [0, %d)", row, nrows)
		}
		if _, dup := repl[row]; dup {
			return bad("row %d given twice", row)
		}
		repl[row] = j
	}
	src := func(i int) (*Result, int) {
		if j, ok := repl[i]; ok {
			return sub, j
		}
		return r, i
	}
	out := make([]int64, nrows+1)
	for i := range nrows {
		s, k := src(i)
		out[i+1] = out[i] + s.Indptr[k+1] - s.Indptr[k]
	}
	nodes := make([]int32, out[nrows])
	scores := make([]float32, out[nrows])
	for i := range nrows {
		s, k := src(i)
		n, sc := s.Row(k)
		copy(nodes[out[i]:out[i+1]], n)
		copy(scores[out[i]:out[i+1]], sc)
	}
	r.Indptr, r.Nodes, r.Scores = out, nodes, scores
	return nil
}

// checkShape reports a Result whose CSR arrays do not fit together.
func (r *Result) checkShape(what string) error {
	if r == nil || len(r.Indptr) == 0 {
		return fmt.Errorf("%s has no indptr", what)
	}
	n := r.NumRows()
	if r.Indptr[0] != 0 || r.Indptr[n] != int64(len(r.Nodes)) || len(r.Nodes) != len(r.Scores) {
		return fmt.Errorf("%s: indptr [%d .. %d] does not span %d nodes and %d scores", what, r.Indptr[0], r.Indptr[n], len(r.Nodes), len(r.Scores))
	}
	for i := range n {
		if r.Indptr[i+1] < r.Indptr[i] {
			return fmt.Errorf("%s: indptr decreases at %d", what, i)
		}
	}
	return nil
}
