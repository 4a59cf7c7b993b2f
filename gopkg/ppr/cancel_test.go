package ppr

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// cancelLatency is the longest a cancelled call may take to return. The
// engine checks every millisecond or so; the margin is for the race
// detector and a loaded 2-core CI machine.
const cancelLatency = time.Second

// waitGoroutines waits until the number of goroutines is back to at most
// base (goroutines that have returned may take a moment to be counted out)
// and fails the test if it is not within a second.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left running, %d before the call:\n%s", runtime.NumGoroutine(), base,
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

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
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type out struct {
				res *Result
				st  Stats
				err error
				at  time.Time
			}
			ch := make(chan out, 1)
			go func() {
				res, st, err := c.run(ctx)
				ch <- out{res, st, err, time.Now()}
			}()
			time.Sleep(c.delay)
			cancelled := time.Now()
			cancel()
			var o out
			select {
			case o = <-ch:
			case <-time.After(30 * time.Second):
				t.Fatal("no return 30 s after the cancellation")
			}
			if took := o.at.Sub(cancelled); took > cancelLatency {
				t.Errorf("returned %v after the cancellation, want at most %v", took, cancelLatency)
			} else {
				t.Logf("returned %v after the cancellation", took)
			}
			if !errors.Is(o.err, context.Canceled) {
				t.Fatalf("error %v, want one wrapping context.Canceled (did the work finish before the cancellation?)", o.err)
			}
			if o.res != nil || o.st != (Stats{}) {
				t.Errorf("result %v, stats %v returned with the error", o.res, o.st)
			}
			waitGoroutines(t, base)
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
