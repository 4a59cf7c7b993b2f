package bindings

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// addr is the address of s[0] as the facade takes it. The facade's callers
// pass memory that never moves (numpy/torch buffers); a Go slice a test
// allocates on its stack moves when the stack grows, leaving a uintptr taken
// before that pointing at the old stack. Keeping s in kept makes every slice
// passed here escape to the heap (where Go never moves memory) and keeps the
// last slices alive while the facade reads them.
func addr[T any](s []T) uintptr {
	keptMu.Lock()
	kept[keptNext%len(kept)] = s
	keptNext++
	keptMu.Unlock()
	return uintptr(unsafe.Pointer(&s[0]))
}

var (
	keptMu   sync.Mutex
	kept     [256]any
	keptNext int
)

func TestGatherThroughFacade(t *testing.T) {
	src := []float32{0, 1, 2, 10, 11, 12, 20, 21, 22}
	idx := []int64{2, 0, 2}
	dst := make([]float32, 9)
	if err := Gather(addr(dst), addr(src), 3, 12, addr(idx), 3); err != nil {
		t.Fatal(err)
	}
	want := []float32{20, 21, 22, 0, 1, 2, 20, 21, 22}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("dst = %v, want %v", dst, want)
		}
	}
	bad := []int64{0, 3}
	err := Gather(addr(dst), addr(src), 3, 12, addr(bad), 2)
	if err == nil || !strings.HasPrefix(err.Error(), "ibmb:index: ") {
		t.Fatalf("bad index: got %v, want an ibmb:index error", err)
	}
}

func TestErrorKinds(t *testing.T) {
	ei := []int64{0, 5, 1, 2}
	if _, err := GraphFromCOO(addr(ei), 2, 3, false, false, false); err == nil || !strings.HasPrefix(err.Error(), "ibmb:index: ") {
		t.Fatalf("got %v, want ibmb:index", err)
	}
	if _, err := SynthCSBM(0, 1, 1, 0.5, 0, 1, 0); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Fatalf("got %v, want ibmb:value", err)
	}
	if err := Free(123456); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Fatalf("got %v, want ibmb:value", err)
	}
	if err := tag(errors.New("boom")); !strings.HasPrefix(err.Error(), "ibmb:internal: boom") {
		t.Fatalf("untyped error tagged %q", err)
	}
}

func TestPanicBecomesError(t *testing.T) {
	f := func() (err error) {
		defer guard(&err)
		var m map[string]int
		m["x"] = 1 // panics: assignment to nil map
		return nil
	}
	err := f()
	if err == nil || !strings.HasPrefix(err.Error(), "ibmb:internal: panic in engine") {
		t.Fatalf("got %v", err)
	}
}

func TestHandles(t *testing.T) {
	before := NumHandles()
	h, err := SynthCSBM(100, 2, 3, 0.5, 4, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	shape := make([]int64, 4)
	if err := SynthShape(h, addr(shape)); err != nil {
		t.Fatal(err)
	}
	if shape[0] != 100 || shape[1] != 300 || shape[2] != 4 || shape[3] != 2 {
		t.Fatalf("shape %v", shape)
	}
	// A handle of the wrong type is refused, not misused.
	if err := GraphShape(h, addr(shape)); err == nil || !strings.Contains(err.Error(), "holds a") {
		t.Fatalf("wrong-type handle: %v", err)
	}
	if err := Free(h); err != nil {
		t.Fatal(err)
	}
	if err := SynthShape(h, addr(shape)); err == nil {
		t.Fatal("use after free accepted")
	}
	if NumHandles() != before {
		t.Fatalf("handles leaked: %d -> %d", before, NumHandles())
	}
}

func TestGraphFacade(t *testing.T) {
	ei := []int64{0, 1, 1, 2, 1, 0, 2, 0} // edges 0->1, 1->0, 1->2, 2->0
	h, err := GraphFromCOO(addr(ei), 4, -1, false, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(h)
	out := make([]int64, 8)
	if err := GraphCopyEdgeIndex(h, addr(out)); err != nil {
		t.Fatal(err)
	}
	want := []int64{0, 1, 1, 2, 1, 0, 2, 0}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("edge_index %v, want %v", out, want)
		}
	}
	w := make([]float32, 4)
	if err := GraphCopyWeights(h, "rw", addr(w)); err != nil {
		t.Fatal(err)
	}
	// Out-degrees 1, 2, 1: row-normalized weights 1, 1/2, 1/2, 1.
	if w[0] != 1 || w[1] != 0.5 || w[2] != 0.5 || w[3] != 1 {
		t.Fatalf("rw weights %v", w)
	}
	nodes := []int64{2, 0}
	s, err := GraphInduce(h, addr(nodes), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer Free(s)
	shape := make([]int64, 2)
	if err := GraphShape(s, addr(shape)); err != nil || shape[0] != 2 || shape[1] != 1 {
		t.Fatalf("induced shape %v, %v (want 2 nodes, 1 edge 2->0)", shape, err)
	}
}

type panicky struct{}

func (*panicky) Close() error { panic("close failed") }

// TestFreeOfCancelledJobSurvivesItsResult: freeing a running job cancels it
// and closes its result later on another goroutine; a typed-nil result or a
// Close that panics must not kill the process.
func TestFreeOfCancelledJobSurvivesItsResult(t *testing.T) {
	for _, res := range []any{(*panicky)(nil), &panicky{}} {
		release := make(chan struct{})
		h := startJob(func(ctx context.Context, _ func(int, int)) (any, error) {
			<-release
			return res, ctx.Err()
		})
		if err := Free(h); err != nil {
			t.Fatal(err)
		}
		close(release)
	}
	time.Sleep(50 * time.Millisecond) // the closing goroutines run; a panic there would end the test binary
}

func TestJobWaitFor(t *testing.T) {
	release := make(chan struct{})
	h := startJob(func(ctx context.Context, _ func(int, int)) (any, error) {
		<-release
		return nil, nil
	})
	defer Free(h)
	start := time.Now()
	if done, err := JobWaitFor(h, 20); err != nil || done != 0 {
		t.Fatalf("running job: done %d, err %v", done, err)
	}
	if time.Since(start) < 15*time.Millisecond {
		t.Fatal("JobWaitFor returned before its time slice on a running job")
	}
	close(release)
	if done, err := JobWaitFor(h, 5000); err != nil || done != 1 {
		t.Fatalf("finished job: done %d, err %v", done, err)
	}
	if _, err := JobWaitFor(h, -1); err == nil {
		t.Fatal("a negative wait was accepted")
	}
}

func TestVersionOneSource(t *testing.T) {
	py, err := os.ReadFile("../pyproject.toml")
	if err != nil {
		t.Skip(err)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(Version()) {
		t.Fatalf("version %q", Version())
	}
	if regexp.MustCompile(`(?m)^version\s*=\s*"`).Match(py) || !strings.Contains(string(py), `version = { file = "bindings/VERSION" }`) {
		t.Errorf("pyproject.toml must read its version from bindings/VERSION, not state one")
	}
}

// TestArenaInfoNamed: every value ArenaInfo writes has one distinct name,
// the values match the arena's accessors by name, a buffer of the wrong
// length is refused, and the dtype and norm code tables agree with the
// engine's parsers.
func TestArenaInfoNamed(t *testing.T) {
	names := strings.Split(ArenaInfoFields(), ",")
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			t.Fatalf("field %q empty or repeated in %v", n, names)
		}
		seen[n] = true
	}
	g, err := graph.FromCOO([]int64{0, 1, 2}, []int64{1, 2, 3}, 4, graph.Options{Symmetrize: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := batch.BuildArena(g, []int64{0, 2, 4}, []int64{0, 1, 2, 3}, []int64{0, 1, 2}, []int64{0, 2},
		batch.ArenaOptions{Norm: graph.NormRow, Labels: []int64{0, 1, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	h := put(a)
	defer Free(h)
	info := make([]int64, len(names))
	if err := ArenaInfo(h, addr(info), len(info)); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for i, n := range names {
		got[n] = info[i]
	}
	off, size := a.Offsets()
	want := map[string]int64{"num_batches": 2, "num_nodes": 4, "nbytes": a.Size(), "address": int64(a.Addr()),
		"dtype": 0, "norm": int64(graph.NormRow), "has_labels": 1, "table_cols": batch.TableCols,
		"nid_offset": off[1], "x_size": size[6], "edges_size": size[3]}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if err := ArenaInfo(h, addr(info), len(info)-1); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value:") {
		t.Errorf("short buffer: %v", err)
	}
	for code, name := range strings.Split(Norms(), ",") {
		if n, err := graph.ParseNorm(name); err != nil || int(n) != code {
			t.Errorf("norm %q has code %d, ParseNorm gives %d, %v", name, code, n, err)
		}
	}
	dt := strings.Split(ArenaDTypes(), ",")
	if len(dt) != int(batch.NumDTypes) || dt[batch.DTypeFloat32] != "float32" || dt[batch.DTypeBFloat16] != "bfloat16" {
		t.Errorf("ArenaDTypes = %v", dt)
	}
}
