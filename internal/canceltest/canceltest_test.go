package canceltest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that records failures; Fatal and Fatalf end the
// check with a panic that check recovers.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Errorf(f string, a ...any) { r.failures = append(r.failures, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); panic(r) }
func (r *recorder) Fatal(a ...any)            { r.Fatalf("%s", fmt.Sprint(a...)) }

// check runs Cancel on a recorder and returns the value, the error and the
// recorded failures.
func check(t *testing.T, call func(ctx context.Context) (int, error)) (v int, err error, failures []string) {
	r := &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failures = r.failures
	}()
	v, err = Cancel(r, 10*time.Millisecond, call)
	return v, err, nil
}

// TestCancel checks that a call that stops at once passes, one that finished
// first is reported by its nil error, and that a wrong error, a late return
// and a goroutine left running each fail the test.
func TestCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	untilDone := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	for _, tc := range []struct {
		name    string
		call    func(ctx context.Context) (int, error)
		wantV   int
		wantErr error
		failure string // "" when the check must pass
	}{
		{"stops at once", func(ctx context.Context) (int, error) { return 0, untilDone(ctx) }, 0, context.Canceled, ""},
		{"finished first", func(context.Context) (int, error) { return 7, nil }, 7, nil, ""},
		{"wrong error", func(ctx context.Context) (int, error) {
			untilDone(ctx)
			return 0, errors.New("other")
		}, 0, nil, "want one wrapping context.Canceled"},
		{"late", func(ctx context.Context) (int, error) {
			err := untilDone(ctx)
			time.Sleep(Latency + 200*time.Millisecond)
			return 0, err
		}, 0, context.Canceled, "after the cancellation, want at most"},
		{"goroutine left", func(ctx context.Context) (int, error) {
			go func() { <-release }()
			return 0, untilDone(ctx)
		}, 0, context.Canceled, "goroutines left running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err, failures := check(t, tc.call)
			joined := strings.Join(failures, "\n")
			if tc.failure == "" && len(failures) > 0 || tc.failure != "" && !strings.Contains(joined, tc.failure) {
				t.Fatalf("failures %q, want one containing %q", joined, tc.failure)
			}
			if tc.failure == "" && (v != tc.wantV || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil)) {
				t.Errorf("got %d, %v; want %d, %v", v, err, tc.wantV, tc.wantErr)
			}
		})
	}
}
