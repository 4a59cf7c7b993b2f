package ppr

import (
	"context"
	"errors"
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
)

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
	} else if res, st, err = computeGPU(ctx, g, t, opt); err != nil {
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

// computeGPU runs the push on CUDA device opt.Device.Ordinal and recomputes
// on the CPU the vectors whose GPU workspace overflowed. Errors wrap
// cuda.ErrUnavailable when no device can be used (the caller may fall back
// to the CPU), cuda.ErrCUDA for driver failures and ctx.Err() when ctx is
// cancelled.
func computeGPU(ctx context.Context, g *graph.CSR, t teleports, opt Options) (*Result, Stats, error) {
	if opt.Progress != nil {
		opt.Progress(0, t.len())
	}
	res, err := cuda.PPRPushContext(ctx, opt.Device.Ordinal, g.Indptr[:g.NumNodes+1], g.Indices, t.ptr, t.nodes,
		cuda.PPROptions{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.TopK})
	if err != nil {
		if errors.Is(err, cuda.ErrValue) || errors.Is(err, cuda.ErrIndex) {
			// ppr's own checks passed, so this is a limit of the GPU path.
			return nil, Stats{}, fmt.Errorf("%w: ppr: GPU push: %v", graph.ErrValue, err)
		}
		return nil, Stats{}, err
	}
	st := Stats{Pushes: res.Stats.Pushes, EdgePushes: res.Stats.EdgePushes}
	if len(res.Overflowed) > 0 {
		sub := teleports{ptr: []int64{0}}
		for _, i := range res.Overflowed {
			sub.nodes = append(sub.nodes, t.set(i)...)
			sub.ptr = append(sub.ptr, int64(len(sub.nodes)))
		}
		cpuOpt := opt
		cpuOpt.Device, cpuOpt.Progress = Device{}, nil
		cpu, cst, ok := compute(g, sub, cpuOpt, ctx.Done())
		if !ok {
			return nil, Stats{}, canceled(ctx)
		}
		if err := res.ReplaceRows(res.Overflowed, cpu.Indptr, cpu.Nodes, cpu.Scores); err != nil {
			return nil, Stats{}, err
		}
		st.Pushes += cst.Pushes
		st.EdgePushes += cst.EdgePushes
	}
	if opt.Progress != nil {
		opt.Progress(t.len(), t.len())
	}
	return &Result{Indptr: res.Indptr, Nodes: res.Nodes, Scores: res.Scores}, st, nil
}
