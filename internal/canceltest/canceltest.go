// Package canceltest checks, in tests, that a cancellable engine call stops
// promptly when its context is cancelled: it returns an error wrapping
// context.Canceled within Latency of the cancellation and leaves no
// goroutine running. The packages that take a context (batch, partition,
// ppr) run their calls through Cancel at several delays, so that each phase
// of the work is cancelled in some run.
package canceltest

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// Latency is the longest a cancelled call may take to return. The engine
// checks its context every millisecond or so; the margin is for the race
// detector and a loaded 2-core CI machine.
const Latency = time.Second

// Cancel calls call in a goroutine with a context that it cancels after
// delay, and waits for the call to return (failing t if it has not 30 s
// after the cancellation). It returns what the call returned. A nil error
// means the call finished before the cancellation, and nothing is checked;
// otherwise Cancel fails t unless the error wraps context.Canceled, came
// within Latency of the cancellation, and every goroutine started since
// Cancel was called has ended within a second. Callers check that no
// result came with the error.
func Cancel[T any](t testing.TB, delay time.Duration, call func(ctx context.Context) (T, error)) (T, error) {
	t.Helper()
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type out struct {
		v   T
		err error
		at  time.Time
	}
	ch := make(chan out, 1)
	go func() {
		v, err := call(ctx)
		ch <- out{v, err, time.Now()}
	}()
	time.Sleep(delay)
	cancelled := time.Now()
	cancel()
	var o out
	select {
	case o = <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("no return 30 s after the cancellation")
	}
	if o.err == nil {
		return o.v, nil
	}
	if !errors.Is(o.err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", o.err)
	}
	if took := o.at.Sub(cancelled); took > Latency {
		t.Errorf("returned %v after the cancellation, want at most %v", took, Latency)
	} else {
		t.Logf("cancelled after %v, returned %v later", delay, took)
	}
	WaitGoroutines(t, base)
	return o.v, o.err
}

// WaitGoroutines waits until the number of goroutines is back to at most
// base (goroutines that have returned may take a moment to be counted out)
// and fails t, with every goroutine's stack, if it is not within a second.
func WaitGoroutines(t testing.TB, base int) {
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
