package gather

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
	"github.com/ibmb-dev/ibmb/kernels/internal/rowtest"
)

var seed = rowtest.NewSeed("gather.seed", 0x9e3779b97f4a7c15)

// testRowSizes are the row widths, in bytes, every tier is checked on.
var testRowSizes = []int{1, 2, 3, 6, 7, 31, 32, 33, 63, 64, 65, 127, 255, 256, 257, 1000, 4096, 4100}

// refGather is the plain-Go reference: what every kernel must produce.
func refGather(src []byte, rowBytes int, idx []int64) []byte {
	out := make([]byte, 0, len(idx)*rowBytes)
	for _, i := range idx {
		out = append(out, src[int(i)*rowBytes:int(i+1)*rowBytes]...)
	}
	return out
}

func ptr[T any](s []T) unsafe.Pointer { return rowtest.Ptr(s) }

func randIdx(r *rand.Rand, n int, rows int64) []int64 {
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = r.Int64N(rows)
	}
	return idx
}

// TestTiersMatchReference runs every available tier (streaming stores
// forced on and off) on every test row size, with misaligned src and dst,
// repeated indices and guard regions, against the Go reference and the
// scalar kernel.
func TestTiersMatchReference(t *testing.T) {
	r := seed.Rand(t)
	for _, rb := range testRowSizes {
		for _, tier := range Available() {
			for _, stream := range []int{0, 1} {
				for off := 0; off < 8; off++ {
					srcRows := 1 + r.IntN(40)
					n := r.IntN(60)
					if off == 0 {
						n = 3*srcRows + 5 // repeats certain
					}
					srcOff := r.IntN(8)
					srcBuf := rowtest.Bytes(r, srcRows*rb+srcOff)
					src := srcBuf[srcOff:]
					idx := randIdx(r, n, int64(srcRows))
					want := refGather(src, rb, idx)

					g := rowtest.NewGuarded(n*rb, off)
					err := gather(tier, g.Ptr(), ptr(src), int64(srcRows), int64(rb), ptr(idx), int64(n), stream)
					if err != nil {
						t.Fatalf("rb=%d tier=%v: %v", rb, tier, err)
					}
					what := func() string {
						return "rb=" + itoa(rb) + " tier=" + tier.String() + " stream=" + itoa(stream) +
							" dstOff=" + itoa(off) + " srcOff=" + itoa(srcOff) + " n=" + itoa(n)
					}
					if !bytes.Equal(g.Dst(), want) {
						t.Fatalf("%s: result differs from reference", what())
					}
					g.CheckGuards(t, what())

					if tier != TierScalar && n > 0 {
						ref := make([]byte, n*rb)
						if err := gather(TierScalar, ptr(ref), ptr(src), int64(srcRows), int64(rb), ptr(idx), int64(n), 0); err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(g.Dst(), ref) {
							t.Fatalf("%s: result differs from the scalar kernel", what())
						}
					}
				}
			}
		}
	}
}

func itoa(i int) string {
	var b [20]byte
	return string(appendInt(b[:0], i))
}

func appendInt(b []byte, i int) []byte {
	if i < 0 {
		b = append(b, '-')
		i = -i
	}
	var d [20]byte
	k := len(d)
	for {
		k--
		d[k] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return append(b, d[k:]...)
}

// TestStreamingAlignments checks the streaming-store paths where they
// apply: rows that are multiples of 16, 32 and 64 bytes, on 16-, 32- and
// 64-byte aligned destinations, and an 8-byte-aligned destination (which
// must fall back to ordinary stores).
func TestStreamingAlignments(t *testing.T) {
	r := seed.Rand(t)
	for _, rb := range []int{16, 32, 48, 64, 80, 96, 128, 160, 272, 4096, 4112} {
		for _, off := range []int{0, 32, 16, 48, 8} {
			for _, tier := range Available() {
				srcRows, n := 37, 101
				src := rowtest.Bytes(r, srcRows*rb)
				idx := randIdx(r, n, int64(srcRows))
				g := rowtest.NewGuarded(n*rb, off)
				if err := gather(tier, g.Ptr(), ptr(src), int64(srcRows), int64(rb), ptr(idx), int64(n), 1); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(g.Dst(), refGather(src, rb, idx)) {
					t.Fatalf("rb=%d off=%d tier=%v: result differs", rb, off, tier)
				}
				g.CheckGuards(t, "streaming rb="+itoa(rb))
			}
		}
	}
}

// TestEmpty: n == 0 succeeds without touching anything, nil pointers
// included.
func TestEmpty(t *testing.T) {
	for _, tier := range Available() {
		if err := RowsTier(tier, nil, nil, 0, 4, nil, 0); err != nil {
			t.Fatalf("tier %v: %v", tier, err)
		}
	}
	if err := Rows(nil, nil, 10, 4, nil, 0); err != nil {
		t.Fatal(err)
	}
	g := rowtest.NewGuarded(0, 3)
	if err := Bytes(g.Dst(), []byte{1, 2, 3}, 3, nil); err != nil {
		t.Fatal(err)
	}
	g.CheckUntouched(t, "empty")
	if err := Float32(nil, nil, 7, []int64{}); err != nil {
		t.Fatal(err)
	}
}

// TestRepeatedIndices gathers one row many times and all rows in reverse.
func TestRepeatedIndices(t *testing.T) {
	r := seed.Rand(t)
	const rb, rows = 33, 9
	src := rowtest.Bytes(r, rb*rows)
	for _, tier := range Available() {
		idx := make([]int64, 500)
		for i := range idx {
			idx[i] = 4
			if i%3 == 0 {
				idx[i] = int64(rows - 1 - i%rows)
			}
		}
		dst := make([]byte, len(idx)*rb)
		if err := RowsTier(tier, ptr(dst), ptr(src), rows, rb, ptr(idx), int64(len(idx))); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dst, refGather(src, rb, idx)) {
			t.Fatalf("tier %v: repeated indices gathered wrongly", tier)
		}
	}
}

// TestIndexErrors: any out-of-range index, anywhere, gives an IndexError
// for the first bad position and leaves dst byte-identical.
func TestIndexErrors(t *testing.T) {
	r := seed.Rand(t)
	const rb = 12
	for _, n := range []int{1, 5, 63, 64, 65, 300, 70000} {
		rows := int64(1 + r.IntN(50))
		src := rowtest.Bytes(r, int(rows)*rb)
		for _, bad := range []int64{rows, rows + 1, -1, math.MinInt64, math.MaxInt64, -rows} {
			for _, pos := range []int{0, n / 2, n - 1} {
				idx := randIdx(r, n, rows)
				idx[pos] = bad
				if pos+1 < n && r.IntN(2) == 0 {
					idx[n-1] = -7 // a later bad index must not be the one reported
				}
				for _, tier := range append(Available(), -1) {
					g := rowtest.NewGuarded(n*rb, 1)
					var err error
					if tier < 0 {
						err = Rows(g.Ptr(), ptr(src), rows, rb, ptr(idx), int64(n))
					} else {
						err = RowsTier(tier, g.Ptr(), ptr(src), rows, rb, ptr(idx), int64(n))
					}
					if !errors.Is(err, ErrIndex) || errors.Is(err, ErrValue) {
						t.Fatalf("n=%d bad=%d pos=%d: err = %v, want ErrIndex", n, bad, pos, err)
					}
					var ie *IndexError
					if !errors.As(err, &ie) || ie.Pos != int64(pos) || ie.Index != bad || ie.Rows != rows {
						t.Fatalf("n=%d bad=%d pos=%d: got %+v", n, bad, pos, ie)
					}
					g.CheckUntouched(t, "index error")
				}
			}
		}
	}
	// Zero source rows: every index is out of range, nil src allowed.
	dst := make([]byte, 8)
	err := Rows(ptr(dst), nil, 0, 4, ptr([]int64{0, 0}), 2)
	var ie *IndexError
	if !errors.As(err, &ie) || ie.Pos != 0 {
		t.Fatalf("zero rows: err = %v", err)
	}
	// The documented message.
	err = Float32(make([]float32, 8), make([]float32, 8), 2, []int64{0, 1, 2, 5})
	if err == nil || !strings.Contains(err.Error(), "index 5 at position 3 is out of range for 4 rows") {
		t.Fatalf("message: %v", err)
	}
}

// TestValueErrors: Rows, RowsTier, Bytes and Float32 hand their arguments
// to the shared check in the right places and wrap ErrValue (the rules
// themselves are tested in kernels/internal/rowcopy).
func TestValueErrors(t *testing.T) {
	a := rowtest.NewArgBufs()
	src, dst, idx, idxBuf := a.Src, a.Dst, a.Idx, a.IdxBuf
	misaligned := unsafe.Add(ptr(idxBuf), 4)
	rowtest.CheckErrs(t, map[string]error{
		"srcRows < 0":            Rows(ptr(dst), ptr(src), -1, 16, ptr(idx), 4),
		"overflow":               Rows(ptr(dst), ptr(src), 4, 1<<40, ptr(idx), 1<<30),
		"nil dst":                Rows(nil, ptr(src), 4, 16, ptr(idx), 4),
		"nil src":                Rows(ptr(dst), nil, 4, 16, ptr(idx), 4),
		"nil idx":                Rows(ptr(dst), ptr(src), 4, 16, nil, 4),
		"misaligned idx":         Rows(ptr(dst), ptr(src), 4, 16, misaligned, 4),
		"dst overlaps src":       Rows(ptr(src[8:]), ptr(src), 2, 16, ptr(idx), 2),
		"dst overlaps idx":       Rows(ptr(idxBuf), ptr(src), 4, 16, ptr(idxBuf[4:]), 4),
		"unknown tier":           RowsTier(Tier(9), ptr(dst), ptr(src), 4, 16, ptr(idx), 4),
		"negative tier":          RowsTier(Tier(-1), ptr(dst), ptr(src), 4, 16, ptr(idx), 4),
		"Bytes rowBytes 0":       Bytes(dst, src, 0, idx),
		"Bytes src not multiple": Bytes(dst, src, 24, idx[:1]),
		"Bytes dst too short":    Bytes(dst[:63], src, 16, idx),
		"Bytes dst too long":     Bytes(dst, src, 8, idx),
		"Float32 width 0":        Float32(make([]float32, 4), make([]float32, 4), 0, idx),
		"Float32 dst length":     Float32(make([]float32, 5), make([]float32, 4), 1, idx),
	}, ErrValue, ErrIndex)
	rowtest.CheckZero(t, dst, "dst after rejected calls")
	for _, tier := range []Tier{TierAVX2, TierAVX512} {
		if !tier.supported() {
			err := RowsTier(tier, ptr(dst), ptr(src), 4, 16, ptr(idx), 4)
			if !errors.Is(err, ErrValue) {
				t.Errorf("unavailable tier %v: err = %v", tier, err)
			}
		}
	}
}

// TestLargeParallel: a 200k-row gather, split across goroutines, equals the
// scalar kernel's result, for Rows and each available tier.
func TestLargeParallel(t *testing.T) {
	r := seed.Rand(t)
	const n, srcRows = 200_000, 50_000
	for _, rb := range []int{96, 6} { // 96: 19 MB output, streaming stores on
		src := rowtest.Bytes(r, srcRows*rb)
		idx := randIdx(r, n, srcRows)
		if w := rowcopy.Workers(n, int64(rb)); runtime.GOMAXPROCS(0) > 1 && w < 2 {
			t.Fatalf("rb=%d: a %d-row gather runs on %d goroutine(s)", rb, n, w)
		}
		ref := make([]byte, n*rb)
		if err := RowsTier(TierScalar, ptr(ref), ptr(src), srcRows, int64(rb), ptr(idx), n); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ref, refGather(src, rb, idx)) {
			t.Fatal("scalar kernel differs from the Go reference")
		}
		for _, tier := range append(Available(), -1) {
			g := rowtest.NewGuarded(n*rb, 0)
			var err error
			if tier < 0 {
				err = Bytes(g.Dst(), src, rb, idx)
			} else {
				err = RowsTier(tier, g.Ptr(), ptr(src), srcRows, int64(rb), ptr(idx), n)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g.Dst(), ref) {
				t.Fatalf("rb=%d tier=%v: large gather differs from scalar", rb, tier)
			}
			g.CheckGuards(t, "large")
		}
	}
}

// TestCheckKernels compares the scalar and AVX2 index scans.
func TestCheckKernels(t *testing.T) {
	r := seed.Rand(t)
	for trial := 0; trial < 300; trial++ {
		n := r.IntN(700)
		rows := r.Int64N(100)
		idx := make([]int64, n)
		for i := range idx {
			if rows > 0 {
				idx[i] = r.Int64N(rows)
			}
		}
		want := int64(-1)
		if n > 0 && (rows == 0 || r.IntN(3) > 0) {
			p := r.IntN(n)
			idx[p] = []int64{-1, rows, rows + 100, math.MinInt64, math.MaxInt64}[r.IntN(5)]
			want = int64(p)
			if rows == 0 {
				want = 0
			}
		} else if rows == 0 && n > 0 {
			want = 0
		}
		for _, avx2 := range []bool{false, true} {
			if avx2 && !hasAVX2 {
				continue
			}
			if got := cCheck(ptr(idx), int64(n), rows, avx2); got != want {
				t.Fatalf("n=%d rows=%d avx2=%v: got %d want %d", n, rows, avx2, got, want)
			}
		}
	}
}

// TestFloat32BitExact: NaN payloads, signed zeros and denormals survive.
func TestFloat32BitExact(t *testing.T) {
	r := seed.Rand(t)
	const width, rows = 3, 20
	src := make([]float32, width*rows)
	for i := range src {
		src[i] = math.Float32frombits(r.Uint32()) // includes NaNs with payloads
	}
	src[0] = math.Float32frombits(0x7fc00001)
	src[1] = math.Float32frombits(0x80000000)
	src[2] = math.Float32frombits(0x00000001)
	idx := randIdx(r, 50, rows)
	idx[0] = 0
	dst := make([]float32, len(idx)*width)
	if err := Float32(dst, src, width, idx); err != nil {
		t.Fatal(err)
	}
	for i, k := range idx {
		for j := 0; j < width; j++ {
			if math.Float32bits(dst[i*width+j]) != math.Float32bits(src[int(k)*width+j]) {
				t.Fatalf("row %d elem %d: bits differ", i, j)
			}
		}
	}
}

// TestDispatch: the tier choice is always runnable, also when the CPU
// features are switched off as on a CPU without AVX2 or AVX-512.
func TestDispatch(t *testing.T) {
	av := Available()
	if len(av) < 2 || av[0] != TierScalar || av[1] != TierMemcpy {
		t.Fatalf("Available() = %v", av)
	}
	t.Logf("available %v, best %v", av, Best())
	saved2, saved512 := hasAVX2, hasAVX512
	defer func() { hasAVX2, hasAVX512 = saved2, saved512 }()
	for _, feat := range [][2]bool{{saved2, saved512}, {saved2, false}, {false, false}} {
		hasAVX2, hasAVX512 = feat[0], feat[1]
		for rb := int64(1); rb <= 1<<16; rb = rb*2 + rb%3 {
			tier := TierFor(rb)
			if !tier.supported() || tier == TierScalar {
				t.Fatalf("avx2=%v avx512=%v rb=%d: TierFor = %v", feat[0], feat[1], rb, tier)
			}
		}
		if !Best().supported() {
			t.Fatalf("Best() = %v not supported", Best())
		}
		src := []byte("abcdefghijkl")
		dst := make([]byte, 8)
		if err := Bytes(dst, src, 4, []int64{2, 0}); err != nil || string(dst) != "ijklabcd" {
			t.Fatalf("avx2=%v avx512=%v: %q %v", feat[0], feat[1], dst, err)
		}
	}
	if TierAVX512.String() != "avx512" || Tier(7).String() != "Tier(7)" {
		t.Fatal("Tier.String")
	}
}
