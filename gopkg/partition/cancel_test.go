package partition

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/internal/canceltest"
)

// TestCancel measures how long an uncancelled Partition takes, then cancels
// the same call at fractions of that time, so that every phase (conversion,
// coarsening, initial bisections, refinement on some level) gets cancelled
// in one run or another. Each cancelled call must stop promptly
// (canceltest.Cancel) with no partition.
func TestCancel(t *testing.T) {
	n, parts := 12_000, 32
	if raceEnabled {
		n, parts = 3_000, 16
	}
	g := csbmGraph(t, n, 10, 10, 0.6, 1)
	opt := Options{Parts: parts, Seed: 3}
	start := time.Now()
	if _, err := Partition(g, opt); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	t.Logf("uncancelled: %v", full)
	for _, frac := range []float64{0, 0.03, 0.15, 0.4, 0.65, 0.9} {
		t.Run(fmt.Sprint(frac), func(t *testing.T) {
			p, err := canceltest.Cancel(t, time.Duration(frac*float64(full)), func(ctx context.Context) ([]int32, error) {
				return PartitionContext(ctx, g, opt)
			})
			if err == nil {
				// PartitionContext looks at ctx before returning: no error
				// means it had finished when cancel ran.
				t.Skip("finished before the cancellation (machine faster now than in the first run)")
			}
			if p != nil {
				t.Fatalf("got %d parts with error %v", len(p), err)
			}
		})
	}
}

// TestCancelledBeforeStart checks that a context already done gives its
// error (a deadline: context.DeadlineExceeded) and that bad input is still
// reported first.
func TestCancelledBeforeStart(t *testing.T) {
	g := gridGraph(t, 4, 4)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, k := range []int{1, 3, 16, 40} {
		if p, err := PartitionContext(ctx, g, Options{Parts: k}); !errors.Is(err, context.DeadlineExceeded) || p != nil {
			t.Errorf("parts %d: %v, %v; want a deadline error", k, p, err)
		}
	}
	if _, err := PartitionContext(ctx, g, Options{Parts: 0}); errors.Is(err, context.DeadlineExceeded) || err == nil {
		t.Errorf("parts 0: %v, want the input error", err)
	}
}

// TestContextNotCancelled checks that a live context gives exactly
// Partition's result.
func TestContextNotCancelled(t *testing.T) {
	n := 5000
	if raceEnabled {
		n = 1500
	}
	g := csbmGraph(t, n, 8, 10, 0.7, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, k := range []int{2, 7, 32} {
		opt := Options{Parts: k, Seed: 11}
		a, err := Partition(g, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := PartitionContext(ctx, g, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("parts %d: node %d in part %d with a context, %d without", k, i, b[i], a[i])
			}
		}
	}
}
