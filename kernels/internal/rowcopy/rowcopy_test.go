package rowcopy

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"
)

var errTest = errors.New("bad")

func fail(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errTest}, args...)...)
}

// TestCheck: every rule of Args.Check, for both directions, with the
// message naming the buffers of that direction.
func TestCheck(t *testing.T) {
	const base = uintptr(1 << 20)
	g := func(dst, src uintptr, rows, rb int64, idx uintptr, n int64) Args {
		return Args{Op: Gather, Dst: dst, Src: src, Idx: idx, TableRows: rows, RowBytes: rb, N: n}
	}
	s := func(dst uintptr, rows, rb int64, src, idx uintptr, n int64) Args {
		return Args{Op: Scatter, Dst: dst, Src: src, Idx: idx, TableRows: rows, RowBytes: rb, N: n}
	}
	cases := []struct {
		name string
		a    Args
		want string // "" = valid
	}{
		{"gather ok", g(base, 2*base, 4, 16, 3*base, 2), ""},
		{"scatter ok", s(base, 4, 16, 2*base, 3*base, 2), ""},
		{"n 0", g(0, 0, 0, 16, 0, 0), ""},
		{"empty table", g(base, 0, 0, 16, 3*base, 2), ""},
		{"rowBytes", g(base, 2*base, 4, 0, 3*base, 2), "rowBytes must be positive"},
		{"gather rows", g(base, 2*base, -1, 16, 3*base, 2), "srcRows must be non-negative"},
		{"scatter rows", s(base, -1, 16, 2*base, 3*base, 2), "dstRows must be non-negative"},
		{"n", g(base, 2*base, 4, 16, 3*base, -1), "n must be non-negative"},
		{"overflow n", g(base, 2*base, 4, 1<<40, 3*base, 1<<30), "overflow"},
		{"overflow table", g(base, 2*base, math.MaxInt64/2, 16, 3*base, 0), "overflow"},
		{"gather dst nil", g(0, 2*base, 4, 16, 3*base, 2), "dst is nil"},
		{"scatter src nil", s(base, 4, 16, 0, 3*base, 2), "src is nil"},
		{"idx nil", g(base, 2*base, 4, 16, 0, 2), "idx is nil"},
		{"gather src nil", g(base, 0, 4, 16, 3*base, 2), "src is nil"},
		{"scatter dst nil", s(0, 4, 16, 2*base, 3*base, 2), "dst is nil"},
		{"misaligned", g(base, 2*base, 4, 16, 3*base+4, 2), "not 8-byte aligned"},
		{"gather dst src", g(base, base+16, 4, 16, 3*base, 2), "overlaps src"},
		{"gather dst idx", g(3*base-8, 2*base, 4, 16, 3*base, 2), "overlaps idx"},
		{"scatter dst src", s(base, 4, 16, base+48, 3*base, 2), "overlaps src"},
		{"scatter dst idx", s(base, 4, 16, 2*base, base+56, 2), "overlaps idx"},
	}
	for _, c := range cases {
		err := c.a.Check(fail)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !errors.Is(err, errTest) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestOverlap(t *testing.T) {
	// [a, a+na) and [b, b+nb), and whether they overlap.
	for _, c := range [][5]int64{
		{100, 10, 110, 10, 0}, // adjacent
		{100, 11, 110, 10, 1},
		{110, 10, 100, 11, 1},
		{100, 0, 100, 10, 0}, // empty
		{0, 10, 0, 10, 0},    // nil
		{100, 50, 120, 1, 1}, // inside
	} {
		if got := Overlap(uintptr(c[0]), c[1], uintptr(c[2]), c[3]); got != (c[4] == 1) {
			t.Errorf("Overlap%v = %v", c[:4], got)
		}
	}
}

// TestSlices: the typed wrapper checks lengths per direction and passes
// the table's row count and the row size on.
func TestSlices(t *testing.T) {
	var got [3]int64
	run := func(_, _ unsafe.Pointer, tableRows, rowBytes int64, _ unsafe.Pointer, n int64) error {
		got = [3]int64{tableRows, rowBytes, n}
		return nil
	}
	cases := []struct {
		name     string
		op       Op
		dst, src []float32
		width    int
		idx      []int64
		want     string
		wantArgs [3]int64
	}{
		{"gather", Gather, make([]float32, 6), make([]float32, 12), 3, []int64{0, 1}, "", [3]int64{4, 12, 2}},
		{"scatter", Scatter, make([]float32, 12), make([]float32, 6), 3, []int64{0, 1}, "", [3]int64{4, 12, 2}},
		{"width", Gather, nil, nil, 0, nil, "row width", [3]int64{}},
		{"gather table", Gather, make([]float32, 6), make([]float32, 11), 3, []int64{0, 1}, "len(src) = 11", [3]int64{}},
		{"scatter table", Scatter, make([]float32, 11), make([]float32, 6), 3, []int64{0, 1}, "len(dst) = 11", [3]int64{}},
		{"gather packed", Gather, make([]float32, 5), make([]float32, 12), 3, []int64{0, 1}, "len(dst) = 5", [3]int64{}},
		{"scatter packed", Scatter, make([]float32, 12), make([]float32, 5), 3, []int64{0, 1}, "len(src) = 5", [3]int64{}},
	}
	for _, c := range cases {
		got = [3]int64{}
		err := Slices(c.op, c.dst, c.src, c.width, 4, c.idx, fail, run)
		if c.want == "" {
			if err != nil || got != c.wantArgs {
				t.Errorf("%s: err %v, run got %v, want %v", c.name, err, got, c.wantArgs)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestTiers(t *testing.T) {
	type tier int
	cases := []struct {
		avx2, avx512 bool
		want         []tier
	}{
		{false, false, []tier{TierScalar, TierMemcpy}},
		{true, false, []tier{TierScalar, TierMemcpy, TierAVX2}},
		{false, true, []tier{TierScalar, TierMemcpy}},
		{true, true, []tier{TierScalar, TierMemcpy, TierAVX2, TierAVX512}},
	}
	for _, c := range cases {
		got := Available[tier](c.avx2, c.avx512)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Available(%v, %v) = %v, want %v", c.avx2, c.avx512, got, c.want)
		}
		for _, x := range []tier{-1, TierAVX2, TierAVX512, 4} {
			err := CheckTier(x, c.avx2, c.avx512, fail)
			if (err == nil) != Supported(x, c.avx2, c.avx512) {
				t.Errorf("CheckTier(%d, %v, %v) = %v", x, c.avx2, c.avx512, err)
			}
		}
	}
	if err := CheckTier(tier(7), true, true, fail); err == nil || !strings.Contains(err.Error(), "unknown tier") {
		t.Errorf("tier 7: %v", err)
	}
}

// TestRunDynamic: the chunks cover [0, n) exactly once, whatever the
// worker count; Workers stays in [1, min(GOMAXPROCS, n)].
func TestRunDynamic(t *testing.T) {
	for _, c := range []struct {
		w        int
		n, chunk int64
	}{{1, 10, 3}, {4, 10, 3}, {4, 1000, 7}, {3, 5, 100}, {2, 0, 4}} {
		hits := make([]atomic.Int32, c.n)
		RunDynamic(c.w, c.n, c.chunk, func(lo, hi int64) {
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("w=%d n=%d chunk=%d: row %d copied %d times", c.w, c.n, c.chunk, i, h)
			}
		}
	}
	for _, c := range []struct{ n, rb int64 }{{1, 1}, {1 << 20, 4096}, {math.MaxInt64 / 2, 1 << 20}, {10, 64}} {
		if w := Workers(c.n, c.rb); w < 1 || int64(w) > c.n {
			t.Errorf("Workers(%d, %d) = %d", c.n, c.rb, w)
		}
	}
	if got := ChunkRows(1 << 30); got != 1 {
		t.Errorf("ChunkRows(1 GiB) = %d, want 1", got)
	}
}
