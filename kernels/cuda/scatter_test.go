package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
)

func newScatterCase(t *testing.T, rng *rand.Rand, rowBytes, rows, n, srcOff, dstOff int64) *rowCase {
	t.Helper()
	return newRowCase(t, rng, rowcopy.Scatter, rowBytes, rows, n, srcOff, dstOff)
}

func TestScatterGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(5, 6))
	rowSizes := []int64{1, 2, 3, 4, 6, 8, 12, 16, 24, 48, 64, 100, 128, 256, 260, 1024, 4100}
	offsets := []struct{ src, dst int64 }{{0, 0}, {4, 0}, {0, 8}, {1, 3}, {16, 48}}
	for _, rowBytes := range rowSizes {
		for _, off := range offsets {
			const rows, n = 61, 37
			what := fmt.Sprintf("rowBytes=%d srcOff=%d dstOff=%d", rowBytes, off.src, off.dst)
			c := newScatterCase(t, rng, rowBytes, rows, n, off.src, off.dst)
			perm := rng.Perm(rows)
			idx := make([]int64, n)
			for i := range idx {
				idx[i] = int64(perm[i])
			}
			c.setIdx(idx)
			if err := Scatter(0, c.dst, rows, rowBytes, c.src, c.idx, n, 0); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			c.verify(idx, what)
		}
	}
	// Many rows (grid-stride), few huge rows (columns split in y).
	for _, s := range []struct{ rowBytes, rows, n int64 }{{16, 30000, 20000}, {1 << 17, 5, 3}, {5, 1, 1}} {
		c := newScatterCase(t, rng, s.rowBytes, s.rows, s.n, 0, 0)
		perm := rng.Perm(int(s.rows))
		idx := make([]int64, s.n)
		for i := range idx {
			idx[i] = int64(perm[i])
		}
		c.setIdx(idx)
		if err := Scatter(0, c.dst, s.rows, s.rowBytes, c.src, c.idx, s.n, 0); err != nil {
			t.Fatal(err)
		}
		c.verify(idx, fmt.Sprintf("%+v", s))
	}
}

func TestScatterBadIndexGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, n, rowBytes = 100, 50, 32
	for _, bc := range []struct {
		set  map[int]int64
		pos  int
		kind error
		text string
	}{
		{set: map[int]int64{7: rows}, pos: 7, kind: ErrIndex, text: "out of range"},
		{set: map[int]int64{0: -1}, pos: 0, kind: ErrIndex, text: "out of range"},
		{set: map[int]int64{20: 3, 40: 3}, pos: 20, kind: ErrValue, text: "occurs more than once"},
		// The smallest position involved in any error wins.
		{set: map[int]int64{30: 1 << 40, 10: 99, 45: 99}, pos: 10, kind: ErrValue, text: "occurs more than once"},
		{set: map[int]int64{5: -3, 10: 99, 45: 99}, pos: 5, kind: ErrIndex, text: "out of range"},
	} {
		c := newScatterCase(t, rng, rowBytes, rows, n, 0, 0)
		idx := make([]int64, 0, rows)
		for _, v := range rng.Perm(rows) {
			if v != 3 && v != 99 { // the planted repeats are the only ones
				idx = append(idx, int64(v))
			}
		}
		idx = idx[:n]
		for p, v := range bc.set {
			idx[p] = v
		}
		c.setIdx(idx)
		err := Scatter(0, c.dst, rows, rowBytes, c.src, c.idx, n, 0)
		if !errors.Is(err, bc.kind) {
			t.Fatalf("%v: got %v, want %v", bc.set, err, bc.kind)
		}
		if want := fmt.Sprintf("idx[%d] = %d ", bc.pos, idx[bc.pos]); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), bc.text) {
			t.Fatalf("%v: %v lacks %q / %q", bc.set, err, want, bc.text)
		}
		c.verifyUntouched(fmt.Sprintf("%v", bc.set))
	}
	// Argument errors need no device.
	for _, e := range []error{
		Scatter(0, 0, 10, 4, 8, 16, 1, 0),
		Scatter(0, 64, 10, 0, 8, 16, 1, 0),
		Scatter(0, 64, 10, 4, 8, 12, 1, 0),
		Scatter(0, 64, 10, 4, 70, 256, 1, 0), // src overlaps dst
	} {
		if !errors.Is(e, ErrValue) {
			t.Errorf("got %v, want ErrValue", e)
		}
	}
}
