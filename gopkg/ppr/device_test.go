package ppr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// fakeBackend computes on the CPU and then plays a device: it empties the
// rows listed in overflow and reports them, or fails with err.
type fakeBackend struct {
	overflow []int
	err      error
	rows     int // > 0: return this many rows instead (a broken backend)
	calls    int
}

func (f *fakeBackend) Push(ctx context.Context, ordinal int, g *graph.CSR, setPtr, setNodes []int64, opt DeviceOptions) (*DeviceResult, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	t := teleports{ptr: setPtr, nodes: setNodes}
	res, st, ok := compute(g, t, Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.TopK}, ctx.Done())
	if !ok {
		return nil, ctx.Err()
	}
	empty := &Result{Indptr: make([]int64, len(f.overflow)+1)}
	if err := res.ReplaceRows(f.overflow, empty); err != nil {
		return nil, err
	}
	if f.rows > 0 {
		res.Indptr = res.Indptr[:f.rows+1]
		res.Nodes, res.Scores = res.Nodes[:res.Indptr[f.rows]], res.Scores[:res.Indptr[f.rows]]
	}
	return &DeviceResult{Result: *res, Overflowed: f.overflow, Stats: st}, nil
}

func withBackend(t *testing.T, b DeviceBackend) {
	t.Helper()
	old := SetCUDABackend(b)
	t.Cleanup(func() { SetCUDABackend(old) })
}

// TestDeviceBackend: a GPU push goes to the registered backend; overflowed
// rows are recomputed on the CPU and spliced in, so the result equals the
// CPU's; backend errors keep or change their kind as documented.
func TestDeviceBackend(t *testing.T) {
	g := randomSymmetric(t, 3, 200, 800, 2, false, true)
	targets := sampleNodes(5, g.NumNodes, 12)
	opt := Options{Alpha: 0.25, Eps: 1e-4, TopK: 8}
	want, _, err := NodeWise(g, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	dev := opt
	dev.Device = Device{CUDA: true, Ordinal: 1}
	for _, c := range []struct {
		name     string
		backend  *fakeBackend
		wantKind *errs.Kind
		wantErr  error
	}{
		{"no overflow", &fakeBackend{}, nil, nil},
		{"some overflowed", &fakeBackend{overflow: []int{0, 5, 11}}, nil, nil},
		{"all overflowed", &fakeBackend{overflow: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}, nil, nil},
		{"unavailable", &fakeBackend{err: fmt.Errorf("%w: no driver", errs.Unavailable)}, errs.Unavailable, nil},
		{"device limit becomes a value error", &fakeBackend{err: errs.New(errs.Index, "too many nodes")}, errs.Value, graph.ErrValue},
		{"driver failure kept", &fakeBackend{err: fmt.Errorf("%w: launch failed", errs.Runtime)}, errs.Runtime, nil},
		{"wrong row count is internal", &fakeBackend{rows: 3}, errs.Internal, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			withBackend(t, c.backend)
			got, _, err := NodeWise(g, targets, dev)
			if c.backend.calls != 1 {
				t.Fatalf("backend called %d times", c.backend.calls)
			}
			if c.wantKind != nil {
				if k := errs.KindOf(err); k != c.wantKind || got != nil {
					t.Fatalf("err %v (kind %v), result %v; want kind %v", err, k, got, c.wantKind)
				}
				if c.wantErr != nil && !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v does not wrap %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Indptr, want.Indptr) || !slices.Equal(got.Nodes, want.Nodes) || !slices.Equal(got.Scores, want.Scores) {
				t.Fatalf("device result differs from the CPU's")
			}
		})
	}
}

func TestDeviceBackendCancel(t *testing.T) {
	g := randomSymmetric(t, 3, 100, 400, 0, false, true)
	ctx, cancel := context.WithCancel(context.Background())
	b := &fakeBackend{}
	withBackend(t, DeviceBackendFunc(func(c context.Context, o int, g *graph.CSR, p, n []int64, opt DeviceOptions) (*DeviceResult, error) {
		cancel()
		return b.Push(c, o, g, p, n, opt)
	}))
	_, _, err := NodeWiseContext(ctx, g, []int64{1, 2}, Options{Alpha: 0.25, Eps: 1e-4, Device: Device{CUDA: true}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancellation, got %v", err)
	}
}

// DeviceBackendFunc adapts a function to DeviceBackend (tests only).
type DeviceBackendFunc func(context.Context, int, *graph.CSR, []int64, []int64, DeviceOptions) (*DeviceResult, error)

func (f DeviceBackendFunc) Push(ctx context.Context, o int, g *graph.CSR, p, n []int64, opt DeviceOptions) (*DeviceResult, error) {
	return f(ctx, o, g, p, n, opt)
}

func TestReplaceRows(t *testing.T) {
	base := func() *Result {
		return &Result{Indptr: []int64{0, 2, 2, 3}, Nodes: []int32{1, 2, 5}, Scores: []float32{.5, .25, 1}}
	}
	r := base()
	if err := r.ReplaceRows([]int{1}, &Result{Indptr: []int64{0, 3}, Nodes: []int32{7, 8, 9}, Scores: []float32{.3, .2, .1}}); err != nil {
		t.Fatal(err)
	}
	want := &Result{Indptr: []int64{0, 2, 5, 6}, Nodes: []int32{1, 2, 7, 8, 9, 5}, Scores: []float32{.5, .25, .3, .2, .1, 1}}
	if !slices.Equal(r.Indptr, want.Indptr) || !slices.Equal(r.Nodes, want.Nodes) || !slices.Equal(r.Scores, want.Scores) {
		t.Fatalf("after ReplaceRows: %+v", r)
	}
	if err := r.ReplaceRows([]int{2, 0}, &Result{Indptr: []int64{0, 0, 1}, Nodes: []int32{4}, Scores: []float32{1}}); err != nil {
		t.Fatal(err)
	}
	want = &Result{Indptr: []int64{0, 1, 4, 4}, Nodes: []int32{4, 7, 8, 9}, Scores: []float32{1, .3, .2, .1}}
	if !slices.Equal(r.Indptr, want.Indptr) || !slices.Equal(r.Nodes, want.Nodes) {
		t.Fatalf("after the second ReplaceRows: %+v", r)
	}
	for name, c := range map[string]struct {
		rows []int
		sub  *Result
	}{
		"row range":       {[]int{3}, &Result{Indptr: []int64{0, 0}}},
		"negative row":    {[]int{-1}, &Result{Indptr: []int64{0, 0}}},
		"row twice":       {[]int{1, 1}, &Result{Indptr: []int64{0, 0, 0}}},
		"too few rows":    {[]int{1}, &Result{Indptr: []int64{0}}},
		"no indptr":       {[]int{1}, &Result{}},
		"nil sub":         {[]int{1}, nil},
		"indptr end":      {[]int{1}, &Result{Indptr: []int64{0, 2}, Nodes: []int32{1}, Scores: []float32{1}}},
		"lengths":         {[]int{1}, &Result{Indptr: []int64{0, 1}, Nodes: []int32{1}}},
		"decreasing":      {[]int{0, 1}, &Result{Indptr: []int64{0, 2, 1}, Nodes: []int32{1}, Scores: []float32{1}}},
		"indptr not at 0": {[]int{1}, &Result{Indptr: []int64{1, 1}, Nodes: []int32{1}, Scores: []float32{1}}},
	} {
		r := base()
		err := r.ReplaceRows(c.rows, c.sub)
		if !errors.Is(err, graph.ErrValue) {
			t.Errorf("%s: want a value error, got %v", name, err)
		}
		if b := base(); !slices.Equal(r.Indptr, b.Indptr) || !slices.Equal(r.Nodes, b.Nodes) {
			t.Errorf("%s: r changed on error", name)
		}
	}
}
