package scatter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"github.com/ibmb-dev/ibmb/kernels/gather"
	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
	"github.com/ibmb-dev/ibmb/kernels/internal/rowtest"
)

var seed = rowtest.NewSeed("scatter.seed", 0x51ed270b27f5a1c3)

// elemSizes are the element types a history stores: float16/bfloat16 (2),
// float32 (4), float64 (8); widths are counts of elements, odd ones and
// ones leaving tails after every vector width included.
var (
	elemSizes = []int{2, 4, 8}
	widths    = []int{1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 64, 100, 127, 128, 129, 513}
	rawSizes  = []int{1, 3, 6, 15, 255, 257, 4100} // bytes, element type 1
)

func testRowBytes() []int {
	var out []int
	for _, es := range elemSizes {
		for _, w := range widths {
			out = append(out, es*w)
		}
	}
	return append(out, rawSizes...)
}

// refScatter is the plain-Go reference: dst after the scatter.
func refScatter(dst, src []byte, rowBytes int, idx []int64) []byte {
	out := append([]byte(nil), dst...)
	for i, v := range idx {
		copy(out[int(v)*rowBytes:int(v+1)*rowBytes], src[i*rowBytes:(i+1)*rowBytes])
	}
	return out
}

func ptr[T any](s []T) unsafe.Pointer { return rowtest.Ptr(s) }

// distinctIDs returns n distinct ids in [0, rows) in random order (n <= rows).
func distinctIDs(r *rand.Rand, n int, rows int64) []int64 {
	perm := r.Perm(int(rows))
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = int64(perm[i])
	}
	return idx
}

// TestTiersMatchReference: every available tier, with streaming stores
// forced off and on, on every element size and width, misaligned dst and
// src, against the Go reference and the scalar kernel; nothing outside the
// named rows (and outside dst) may change.
func TestTiersMatchReference(t *testing.T) {
	r := seed.Rand(t)
	for _, rb := range testRowBytes() {
		for _, tier := range Available() {
			for _, stream := range []int{0, 1} {
				for _, off := range []int{0, 1, 8, 16, 48} {
					dstRows := 1 + r.IntN(60)
					n := r.IntN(dstRows + 1)
					if off == 0 {
						n = dstRows // every row written
					}
					srcOff := r.IntN(8)
					src := rowtest.Bytes(r, n*rb+srcOff)[srcOff:]
					idx := distinctIDs(r, n, int64(dstRows))
					g := rowtest.NewGuarded(dstRows*rb, off)
					want := refScatter(g.Dst(), src, rb, idx)
					what := fmt.Sprintf("rb=%d tier=%v stream=%d dstOff=%d srcOff=%d n=%d rows=%d", rb, tier, stream, off, srcOff, n, dstRows)
					if err := scatter(tier, g.Ptr(), int64(dstRows), int64(rb), ptr(src), ptr(idx), int64(n), stream); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if !bytes.Equal(g.Dst(), want) {
						t.Fatalf("%s: result differs from the reference", what)
					}
					g.CheckGuards(t, what)
					if tier != gather.TierScalar {
						ref := g.Initial()
						if err := RowsTier(gather.TierScalar, ptr(ref), int64(dstRows), int64(rb), ptr(src), ptr(idx), int64(n)); err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(g.Dst(), ref) {
							t.Fatalf("%s: result differs from the scalar kernel", what)
						}
					}
				}
			}
		}
	}
}

// TestFloatBitsExact: NaN payloads, signed zeros and subnormals of float16,
// bfloat16 (as 16-bit patterns), float32 and float64 survive a scatter
// followed by a gather (the history's push then pull).
func TestFloatBitsExact(t *testing.T) {
	r := seed.Rand(t)
	for _, es := range elemSizes {
		for _, width := range []int{1, 3, 64, 67} {
			rb := es * width
			const rows, n = 50, 37
			src := rowtest.Bytes(r, n*rb) // random bit patterns: NaNs, infinities, subnormals
			specials := map[int][]byte{
				2: {0x01, 0x7e, 0x00, 0x80, 0x01, 0x00}, // NaN payload, -0, subnormal
				4: binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x7fc00001), 0x80000000),
				8: binary.LittleEndian.AppendUint64(nil, 0x7ff0000000000001),
			}[es]
			copy(src, specials)
			idx := distinctIDs(r, n, rows)
			store := make([]byte, rows*rb)
			if err := Bytes(store, src, rb, idx); err != nil {
				t.Fatal(err)
			}
			back := make([]byte, n*rb)
			if err := gather.Bytes(back, store, rb, idx); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, src) {
				t.Fatalf("es=%d width=%d: scatter then gather changed bits", es, width)
			}
		}
	}
}

// TestLargeParallel: scatters big enough to be split across goroutines and
// to use streaming stores equal the scalar kernel's result.
func TestLargeParallel(t *testing.T) {
	r := seed.Rand(t)
	for _, c := range []struct{ rb, rows, n int }{{256, 60_000, 50_000}, {96, 120_000, 100_000}, {6, 300_000, 200_000}, {260, 30_000, 20_000}} {
		src := rowtest.Bytes(r, c.n*c.rb)
		idx := distinctIDs(r, c.n, int64(c.rows))
		if w := rowcopy.Workers(int64(c.n), int64(c.rb)); runtime.GOMAXPROCS(0) > 1 && c.rb >= 96 && w < 2 {
			t.Fatalf("rb=%d: a %d-row scatter runs on %d goroutine(s)", c.rb, c.n, w)
		}
		base := rowtest.Bytes(r, c.rows*c.rb)
		ref := append([]byte(nil), base...)
		if err := RowsTier(gather.TierScalar, ptr(ref), int64(c.rows), int64(c.rb), ptr(src), ptr(idx), int64(c.n)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ref, refScatter(base, src, c.rb, idx)) {
			t.Fatal("scalar kernel differs from the Go reference")
		}
		for _, tier := range append(Available(), -1) {
			g := rowtest.NewGuarded(c.rows*c.rb, 0)
			copy(g.Dst(), base)
			var err error
			if tier < 0 {
				err = Bytes(g.Dst(), src, c.rb, idx)
			} else {
				err = RowsTier(tier, g.Ptr(), int64(c.rows), int64(c.rb), ptr(src), ptr(idx), int64(c.n))
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g.Dst(), ref) {
				t.Fatalf("rb=%d tier=%v: large scatter differs from scalar", c.rb, tier)
			}
		}
	}
}

// TestRepeatedIDsRejected: a repeated id anywhere is reported at its second
// occurrence (the first such position in the list), naming the first
// occurrence, and dst is not touched; an out-of-range id before it wins.
func TestRepeatedIDsRejected(t *testing.T) {
	r := seed.Rand(t)
	const rb, rows = 12, 1000
	cases := []struct {
		name      string
		idx       []int64
		pos, prev int64 // prev -1: index error
	}{
		{"adjacent", []int64{5, 5}, 1, 0},
		{"far apart", []int64{1, 2, 3, 4, 1}, 4, 0},
		{"first repeat wins", []int64{9, 7, 8, 7, 9}, 3, 1},
		{"same word other bit", []int64{0, 63, 64, 127, 63}, 4, 1},
		{"range before repeat", []int64{3, rows, 3}, 1, -1},
		{"repeat before range", []int64{3, 3, -1}, 1, 0},
		{"all same", []int64{999, 999, 999, 999}, 1, 0},
	}
	long := distinctIDs(r, 900, rows)
	long[700] = long[123]
	cases = append(cases, struct {
		name      string
		idx       []int64
		pos, prev int64
	}{"long", long, 700, 123})
	for _, c := range cases {
		for _, tier := range append(Available(), -1) {
			src := rowtest.Bytes(r, len(c.idx)*rb)
			g := rowtest.NewGuarded(rows*rb, 3)
			var err error
			if tier < 0 {
				err = Rows(g.Ptr(), rows, rb, ptr(src), ptr(c.idx), int64(len(c.idx)))
			} else {
				err = RowsTier(tier, g.Ptr(), rows, rb, ptr(src), ptr(c.idx), int64(len(c.idx)))
			}
			if c.prev < 0 {
				var ie *IndexError
				if !errors.As(err, &ie) || ie.Pos != c.pos || !errors.Is(err, ErrIndex) || errors.Is(err, ErrValue) {
					t.Fatalf("%s: err = %v, want an IndexError at %d", c.name, err, c.pos)
				}
			} else {
				var de *DuplicateError
				if !errors.As(err, &de) || de.Pos != c.pos || de.Prev != c.prev || de.Index != c.idx[c.pos] {
					t.Fatalf("%s: err = %v, want a DuplicateError at %d (first at %d)", c.name, err, c.pos, c.prev)
				}
				if !errors.Is(err, ErrDuplicate) || !errors.Is(err, ErrValue) || errors.Is(err, ErrIndex) {
					t.Fatalf("%s: %v does not wrap ErrDuplicate and ErrValue only", c.name, err)
				}
			}
			g.CheckUntouched(t, fmt.Sprintf("%s tier %v: rejected scatter", c.name, tier))
		}
	}
	// The pooled bitmap is clean after a rejected call: a valid list that
	// reuses the same ids passes.
	if err := Check(ptr([]int64{5, 5}), 2, 10); err == nil {
		t.Fatal("repeat accepted")
	}
	if err := Check(ptr([]int64{5, 6, 7}), 3, 10); err != nil {
		t.Fatalf("bitmap left dirty: %v", err)
	}
	err := Bytes(make([]byte, 40), make([]byte, 8), 4, []int64{2, 2})
	if err == nil || !strings.Contains(err.Error(), "index 2 occurs at positions 0 and 1; ids must be distinct") {
		t.Fatalf("message: %v", err)
	}
}

// TestIndexErrors: an out-of-range id anywhere gives an IndexError for the
// first bad position and leaves dst unchanged.
func TestIndexErrors(t *testing.T) {
	r := seed.Rand(t)
	const rb = 10
	for _, n := range []int{1, 5, 64, 65, 300} {
		rows := int64(n + r.IntN(50))
		for _, bad := range []int64{rows, rows + 1, -1, math.MinInt64, math.MaxInt64, -rows} {
			for _, pos := range []int{0, n / 2, n - 1} {
				idx := distinctIDs(r, n, rows)
				idx[pos] = bad
				src := rowtest.Bytes(r, n*rb)
				g := rowtest.NewGuarded(int(rows)*rb, 0)
				err := Rows(g.Ptr(), rows, rb, ptr(src), ptr(idx), int64(n))
				var ie *IndexError
				if !errors.As(err, &ie) || ie.Pos != int64(pos) || ie.Index != bad || ie.Rows != rows {
					t.Fatalf("n=%d bad=%d pos=%d: err = %v", n, bad, pos, err)
				}
				g.CheckUntouched(t, "rejected scatter")
			}
		}
	}
	err := Float32(make([]float32, 8), make([]float32, 4), 2, []int64{0, 4})
	if err == nil || !strings.Contains(err.Error(), "index 4 at position 1 is out of range for 4 rows") {
		t.Fatalf("message: %v", err)
	}
	// Zero dst rows: every id is out of range, nil dst allowed.
	if err := Rows(nil, 0, 4, ptr(make([]byte, 4)), ptr([]int64{0}), 1); !errors.Is(err, ErrIndex) {
		t.Fatalf("zero rows: %v", err)
	}
}

// TestValueErrors: Rows, RowsTier, Bytes, Float32 and Check hand their
// arguments to the shared checks in the right places and wrap ErrValue
// (the rules themselves are tested in kernels/internal/rowcopy).
func TestValueErrors(t *testing.T) {
	a := rowtest.NewArgBufs()
	src, dst, idx, idxBuf := a.Src, a.Dst, a.Idx, a.IdxBuf
	rowtest.CheckErrs(t, map[string]error{
		"dstRows < 0":            Rows(ptr(dst), -1, 16, ptr(src), ptr(idx), 4),
		"overflow":               Rows(ptr(dst), 4, 1<<40, ptr(src), ptr(idx), 1<<30),
		"nil dst":                Rows(nil, 4, 16, ptr(src), ptr(idx), 4),
		"nil src":                Rows(ptr(dst), 4, 16, nil, ptr(idx), 4),
		"nil idx":                Rows(ptr(dst), 4, 16, ptr(src), nil, 4),
		"misaligned idx":         Rows(ptr(dst), 4, 16, ptr(src), unsafe.Add(ptr(idxBuf), 4), 4),
		"dst overlaps src":       Rows(ptr(src[8:]), 2, 16, ptr(src), ptr(idx[:2]), 2),
		"dst overlaps idx":       Rows(ptr(idxBuf), 4, 16, ptr(src), ptr(idxBuf[4:]), 4),
		"unknown tier":           RowsTier(Tier(9), ptr(dst), 4, 16, ptr(src), ptr(idx), 4),
		"Bytes rowBytes 0":       Bytes(dst, src, 0, idx),
		"Bytes dst not multiple": Bytes(dst[:60], src, 16, idx),
		"Bytes src length":       Bytes(dst, src[:63], 16, idx),
		"Float32 width 0":        Float32(make([]float32, 4), make([]float32, 4), 0, idx),
		"Float32 src length":     Float32(make([]float32, 4), make([]float32, 5), 1, idx),
		"Check n < 0":            Check(ptr(idx), -1, 4),
		"Check misaligned":       Check(unsafe.Add(ptr(idxBuf), 4), 2, 4),
	}, ErrValue, ErrIndex)
	rowtest.CheckZero(t, dst, "dst after rejected calls")
	// n == 0 succeeds with nil pointers.
	if err := Rows(nil, 0, 4, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
}

// TestBitmapMemoryLimit: a store too large for its id bitmap is refused
// with a memory error, not a crash.
func TestBitmapMemoryLimit(t *testing.T) {
	defer memlimit.Override(1 << 20)()
	for _, rows := range []int64{1 << 40, math.MaxInt64 - 62, math.MaxInt64} {
		err := Check(ptr([]int64{0, rows - 1}), 2, rows)
		if !errors.Is(err, memlimit.ErrMemory) {
			t.Fatalf("rows %d: err = %v, want ErrMemory", rows, err)
		}
	}
}

// TestDispatch: the automatic tier always runs, also with the CPU features
// switched off.
func TestDispatch(t *testing.T) {
	saved2, saved512 := hasAVX2, hasAVX512
	defer func() { hasAVX2, hasAVX512 = saved2, saved512 }()
	t.Logf("available %v", Available())
	for _, feat := range [][2]bool{{saved2, saved512}, {saved2, false}, {false, false}} {
		hasAVX2, hasAVX512 = feat[0], feat[1]
		for _, rb := range []int64{1, 7, 64, 4096} {
			if tier := TierFor(rb); !supported(tier) || tier == gather.TierScalar {
				t.Fatalf("avx2=%v: TierFor(%d) = %v", feat[0], rb, tier)
			}
		}
		dst := []byte("abcdefghijkl")
		if err := Bytes(dst, []byte("WXYZ"), 2, []int64{5, 0}); err != nil || string(dst) != "YZcdefghijWX" {
			t.Fatalf("avx2=%v: %q %v", feat[0], dst, err)
		}
	}
	if !supported(gather.TierAVX2) && RowsTier(gather.TierAVX2, nil, 0, 4, nil, nil, 0) == nil {
		t.Fatal("unavailable tier accepted")
	}
}

// refCheck is the Go model of the id check: the first position whose id is
// out of range or seen before, and that earlier position (-1 for a range
// error); pos -1 when the list is valid.
func refCheck(idx []int64, rows int64) (pos, prev int64) {
	first := map[int64]int64{}
	for i, v := range idx {
		if v < 0 || v >= rows {
			return int64(i), -1
		}
		if p, ok := first[v]; ok {
			return int64(i), p
		}
		first[v] = int64(i)
	}
	return -1, -1
}

// TestParallelCheck: lists long enough for the parallel check, valid or with
// repeats and range errors planted across the chunks, give exactly the
// sequential scan's answer, and leave the pooled bitmap clean (a later
// valid list over the same ids passes).
func TestParallelCheck(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	r := seed.Rand(t)
	const rows = 1 << 20
	for trial := 0; trial < 30; trial++ {
		n := parCheckMin + r.IntN(4*parCheckMin)
		idx := distinctIDs(r, n, rows)
		valid := append([]int64(nil), idx...)
		switch trial % 5 {
		case 1: // a repeat across chunks
			a, b := r.IntN(n/4), n/2+r.IntN(n/2)
			idx[b] = idx[a]
		case 2: // several repeats, the first one inside the last chunk
			for k := 0; k < 5; k++ {
				a := n - 1 - r.IntN(n/8)
				idx[a] = idx[a-1-r.IntN(100)]
			}
		case 3: // a range error after a repeat
			idx[n-1] = rows
			idx[n/3] = idx[n/5]
		case 4: // a negative id early
			idx[r.IntN(n/10)] = -1
		}
		wantPos, wantPrev := refCheck(idx, rows)
		err := Check(ptr(idx), int64(n), rows)
		switch {
		case wantPos < 0:
			if err != nil {
				t.Fatalf("trial %d: valid list rejected: %v", trial, err)
			}
		case wantPrev < 0:
			var ie *IndexError
			if !errors.As(err, &ie) || ie.Pos != wantPos {
				t.Fatalf("trial %d: err = %v, want IndexError at %d", trial, err, wantPos)
			}
		default:
			var de *DuplicateError
			if !errors.As(err, &de) || de.Pos != wantPos || de.Prev != wantPrev {
				t.Fatalf("trial %d: err = %v, want DuplicateError at %d (first %d)", trial, err, wantPos, wantPrev)
			}
		}
		if err := Check(ptr(valid), int64(n), rows); err != nil {
			t.Fatalf("trial %d: bitmap left dirty: %v", trial, err)
		}
	}
}

// TestCheckClearsBitmap: the sequential check (cCheck), on lists sparse and
// dense for the bitmap (each side of dense's threshold), valid or with a
// planted repeat or range error, gives refCheck's answer and leaves every
// word of the bitmap zero, the spare words past the rows' words included.
func TestCheckClearsBitmap(t *testing.T) {
	r := seed.Rand(t)
	cases := []struct {
		name string
		rows int64
		n    int
	}{
		{"sparse", 1 << 16, 100},
		{"just below dense", 64 * 64, 31},
		{"just dense", 64 * 64, 32},
		{"dense", 5000, 3000},
		{"all rows", 130, 130},
		{"one row", 1, 1},
	}
	for _, c := range cases {
		if got, want := dense(int64(c.n), c.rows), int64(c.n) >= bitmapWords(c.rows)/2; got != want {
			t.Fatalf("%s: dense = %v", c.name, got)
		}
		for _, plant := range []string{"valid", "repeat", "range"} {
			idx := distinctIDs(r, c.n, c.rows)
			switch {
			case plant == "repeat" && c.n > 1:
				idx[c.n-1-r.IntN(c.n/2)] = idx[r.IntN(c.n/2)]
			case plant == "range":
				idx[r.IntN(c.n)] = c.rows + int64(r.IntN(3))
			}
			seen := make([]uint64, bitmapWords(c.rows)+2)
			pos, prev := cCheck(ptr(idx), int64(c.n), c.rows, seen)
			wantPos, wantPrev := refCheck(idx, c.rows)
			if pos != wantPos || prev != wantPrev {
				t.Fatalf("%s %s: check = (%d, %d), want (%d, %d)", c.name, plant, pos, prev, wantPos, wantPrev)
			}
			for i, w := range seen {
				if w != 0 {
					t.Fatalf("%s %s: bitmap word %d = %#x after the check", c.name, plant, i, w)
				}
			}
		}
	}
}
