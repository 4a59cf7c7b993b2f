package ppr

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/internal/canceltest"
)

// TestCancel starts work that would take far longer than the test, cancels
// it after a delay and checks that the call returns promptly with an error
// wrapping context.Canceled, no result, and no goroutine left behind.
func TestCancel(t *testing.T) {
	g := randomSymmetric(t, 3, 150_000, 750_000, 10, false, true)
	all := make([]int64, g.NumNodes)
	for i := range all {
		all[i] = int64(i)
	}
	many := Options{Alpha: 0.2, Eps: 1e-7}
	// One vector whose work bound is the largest admitted: on this graph it
	// runs for seconds, so only the checks within a vector can stop it.
	long := Options{Alpha: 0.01, Eps: 1e-8, Workers: 1}
	type call func(ctx context.Context) (*Result, Stats, error)
	cases := []struct {
		name  string
		delay time.Duration
		run   call
	}{
		{"node-wise, all workers", 30 * time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			return NodeWiseContext(ctx, g, all, many)
		}},
		{"node-wise, relabelling, at once", 0, func(ctx context.Context) (*Result, Stats, error) {
			return NodeWiseContext(ctx, g, all, many)
		}},
		{"node-wise, relabelling, 1 ms", time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			return NodeWiseContext(ctx, g, all, many)
		}},
		{"node-wise, one worker", 30 * time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			o := many
			o.Workers = 1
			return NodeWiseContext(ctx, g, all[:1000], o)
		}},
		{"node-wise, progress", 30 * time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			o := many
			o.Progress = func(int, int) {}
			return NodeWiseContext(ctx, g, all, o)
		}},
		{"one long vector", 30 * time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			return NodeWiseContext(ctx, g, all[:1], long)
		}},
		{"set-wise, one long set", 30 * time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			return SetWiseContext(ctx, g, []int64{0, 3}, []int64{5, 6, 7}, long)
		}},
		{"set-wise, many sets", 30 * time.Millisecond, func(ctx context.Context) (*Result, Stats, error) {
			ptr := []int64{0}
			for i := 1; i <= 1000; i++ {
				ptr = append(ptr, int64(50*i))
			}
			return SetWiseContext(ctx, g, ptr, all[:50_000], many)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			type out struct {
				res *Result
				st  Stats
			}
			o, err := canceltest.Cancel(t, c.delay, func(ctx context.Context) (out, error) {
				res, st, err := c.run(ctx)
				return out{res, st}, err
			})
			if err == nil {
				t.Fatal("the work finished before the cancellation")
			}
			if o.res != nil || o.st != (Stats{}) {
				t.Errorf("result %v, stats %v returned with the error", o.res, o.st)
			}
		})
	}
}

// TestCancelledBeforeStart checks the error of a call whose context is
// already done: a deadline gives context.DeadlineExceeded, and input errors
// still come first.
func TestCancelledBeforeStart(t *testing.T) {
	g := randomSymmetric(t, 1, 50, 100, 0, false, true)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	opt := Options{Alpha: 0.25, Eps: 1e-4}
	if _, _, err := NodeWiseContext(ctx, g, []int64{1}, opt); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("NodeWiseContext: %v, want context.DeadlineExceeded", err)
	}
	if _, _, err := SetWiseContext(ctx, g, []int64{0, 1}, []int64{1}, opt); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SetWiseContext: %v, want context.DeadlineExceeded", err)
	}
	if _, _, err := NodeWiseContext(ctx, g, []int64{99}, opt); !errors.Is(err, graph.ErrIndex) {
		t.Errorf("NodeWiseContext with a bad target: %v, want an index error", err)
	}
}

// TestContextNotCancelled checks that a live context changes nothing: the
// result is bit-identical to NodeWise's and SetWise's, relabelling included.
func TestContextNotCancelled(t *testing.T) {
	g := randomSymmetric(t, 5, relabelMinNodes+10, 4*relabelMinNodes, 10, false, true)
	targets := sampleNodes(4, g.NumNodes, relabelMinTasks+50)
	opt := Options{Alpha: 0.25, Eps: 1e-3, TopK: 8}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ref, refSt, err := NodeWise(g, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	res, st, err := NodeWiseContext(ctx, g, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Indptr, ref.Indptr) || !slices.Equal(res.Nodes, ref.Nodes) ||
		!slices.Equal(res.Scores, ref.Scores) || st != refSt {
		t.Error("NodeWiseContext differs from NodeWise")
	}
	ptr := []int64{0, 3, 4, 10}
	ref, refSt, err = SetWise(g, ptr, targets[:10], opt)
	if err != nil {
		t.Fatal(err)
	}
	res, st, err = SetWiseContext(ctx, g, ptr, targets[:10], opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Indptr, ref.Indptr) || !slices.Equal(res.Nodes, ref.Nodes) ||
		!slices.Equal(res.Scores, ref.Scores) || st != refSt {
		t.Error("SetWiseContext differs from SetWise")
	}
}
