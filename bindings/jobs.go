package bindings

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// job is long engine work running on its own goroutine, so that Python can
// poll its progress (and draw a progress bar) between short calls instead of
// blocking in one call it cannot interrupt, and can cancel it (Ctrl-C).
//
// Invariant: done is closed exactly once, after result and err are set; the
// work function sees ctx cancelled after JobCancel or Free, and must return
// promptly (the engine's loops check ctx at least every few milliseconds).
type job struct {
	done        chan struct{}
	ctx         context.Context
	cancel      context.CancelFunc
	step, total atomic.Int64
	err         error
	result      any
	closeOnce   sync.Once
}

// startJob runs work on a new goroutine and returns the job's handle. work
// gets a context that JobCancel (or Free) cancels, and reports progress
// through the callback it is given; its panics become errors of the job.
func startJob(work func(ctx context.Context, progress func(done, total int)) (any, error)) int {
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go func() {
		defer close(j.done)
		defer func() {
			if r := recover(); r != nil {
				j.err = fmt.Errorf("panic in engine: %v", r)
			}
		}()
		j.result, j.err = work(ctx, func(done, total int) {
			j.total.Store(int64(total))
			j.step.Store(int64(done))
		})
		if j.err == nil && ctx.Err() != nil {
			// Cancelled after the work finished its last check: the result is
			// complete, but the caller asked to stop, so report that.
			j.err = ctx.Err()
		}
	}()
	return put(j)
}

// Close cancels the job if it is still running and releases what its result
// holds outside the Go heap (Free calls it). It does not wait for the work
// goroutine; a cancelled goroutine exits on its next context check and its
// result is then dropped.
func (j *job) Close() error {
	j.closeOnce.Do(func() {
		j.cancel()
		go func() {
			<-j.done
			closeResult(j.result)
		}()
	})
	return nil
}

// JobPoll writes the progress of job h as three int64 at out: steps done,
// total steps (0 while unknown) and 1 when the job has finished, else 0.
func JobPoll(h int, out uintptr) (err error) {
	defer guard(&err)
	j, err := get[*job](h)
	if err != nil {
		return err
	}
	o, err := int64s(out, 3)
	if err != nil {
		return err
	}
	o[0], o[1], o[2] = j.step.Load(), j.total.Load(), 0
	select {
	case <-j.done:
		o[2] = 1
	default:
	}
	return nil
}

// JobCancel asks job h to stop. It returns at once; JobWait then returns the
// job's error (a "canceled" error unless the work had already finished).
// Cancelling a finished job does nothing.
func JobCancel(h int) (err error) {
	defer guard(&err)
	j, err := get[*job](h)
	if err != nil {
		return err
	}
	j.cancel()
	return nil
}

// JobWaitFor blocks until job h has finished or ms milliseconds have
// passed, whichever comes first, and returns 1 when the job has finished,
// else 0. Python waits in slices of this call (the GIL is released during
// it) so that a finished job is noticed at once and Ctrl-C within one slice.
func JobWaitFor(h, ms int) (done int, err error) {
	defer guard(&err)
	j, err := get[*job](h)
	if err != nil {
		return 0, err
	}
	if ms < 0 {
		return 0, argErr("wait of %d ms", ms)
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-j.done:
		return 1, nil
	case <-t.C:
		return 0, nil
	}
}

// JobWait blocks until job h has finished and returns its error, if any.
// The job (and its result) stays available until Free(h).
func JobWait(h int) (err error) {
	defer guard(&err)
	j, err := get[*job](h)
	if err != nil {
		return err
	}
	<-j.done
	return j.err
}

// jobResult returns the result of finished job h as a T.
func jobResult[T any](h int) (T, error) {
	var zero T
	j, err := get[*job](h)
	if err != nil {
		return zero, err
	}
	select {
	case <-j.done:
	default:
		return zero, fmt.Errorf("%w: job %d has not finished (call JobWait first)", errArg, h)
	}
	if j.err != nil {
		return zero, j.err
	}
	r, ok := j.result.(T)
	if !ok {
		return zero, fmt.Errorf("%w: job %d holds a %T, not a %T", errHandle, h, j.result, zero)
	}
	return r, nil
}

// closeResult releases what a job's result holds outside the Go heap. A
// result may be a typed nil (a cancelled job), and a Close that panics must
// not take the process down: this runs on its own goroutine, outside any
// guard.
func closeResult(r any) {
	defer func() { _ = recover() }()
	if c, ok := r.(interface{ Close() error }); ok && !isNil(r) {
		_ = c.Close()
	}
}

// isNil reports whether r is nil or a nil pointer in an interface.
func isNil(r any) bool {
	if r == nil {
		return true
	}
	v := reflect.ValueOf(r)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return v.IsNil()
	}
	return false
}
