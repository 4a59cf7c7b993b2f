package cuda

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// errAfter is a cancellable context whose Err turns to context.Canceled
// after a given number of calls, so that a test can cancel PPRPushContext
// between two particular kernel launches without any timing.
type errAfter struct {
	context.Context
	left atomic.Int64
}

func (c *errAfter) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestPPRCancelGPU checks that PPRPushContext looks at its context before
// every launch, returns an error wrapping it, and computes the usual result
// in several waves when it is not cancelled.
func TestPPRCancelGPU(t *testing.T) {
	requireGPU(t)
	g, ex, seeds := wavesFixture(43, 60)
	opt := PPROptions{Alpha: 0.25, Eps: 1e-3, TopK: 8, MaxWarps: 2}

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PPRPushContext(done, 0, g.indptr, g.indices, nil, seeds, opt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the call: %v, want context.Canceled", err)
	}

	// Two looks pass (on entry, before the first launch); the look before
	// the second launch sees the cancellation. The first wave of a
	// cancellable call is 4 tasks per warp, 8 of the 60 seeds.
	live, stop := context.WithCancel(context.Background())
	defer stop()
	ctx := &errAfter{Context: live}
	ctx.left.Store(2)
	if _, err := PPRPushContext(ctx, 0, g.indptr, g.indices, nil, seeds, opt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled after the first launch: %v, want context.Canceled", err)
	}

	res, err := PPRPushContext(live, 0, g.indptr, g.indices, nil, seeds, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Launches < 2 {
		t.Errorf("a cancellable call made %d launches, want a small first wave and more", res.Stats.Launches)
	}
	checkPPRResult(t, "cancellable call", g, ex, nil, seeds, opt, res)
}
