package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
)

// These tests need a GPU (Available() == nil) and skip otherwise. Without a
// GPU they still run against the CPU-emulated fake driver, see fake_test.go.

func TestDeviceGPU(t *testing.T) {
	requireGPU(t)
	n, err := DeviceCount()
	if err != nil || n < 1 {
		t.Fatalf("DeviceCount() = %d, %v", n, err)
	}
	for i := 0; i < n; i++ {
		info, err := Device(i)
		if err != nil {
			t.Fatalf("Device(%d): %v", i, err)
		}
		if info.Name == "" || info.Major < 1 || info.SMs < 1 || info.TotalMem == 0 {
			t.Errorf("Device(%d) = %+v", i, info)
		}
		t.Logf("device %d: %v", i, info)
	}
	if _, err := Device(n); !errors.Is(err, ErrValue) {
		t.Errorf("Device(%d) (out of range): got %v, want ErrValue", n, err)
	}
	dma, dmi, err := DriverVersion()
	if err != nil || dma < 1 {
		t.Errorf("DriverVersion() = %d.%d, %v", dma, dmi, err)
	}
	lib, err := DriverLibrary()
	t.Logf("driver CUDA %d.%d (%s, %v)", dma, dmi, lib, err)
}

func TestPrepareGPU(t *testing.T) {
	requireGPU(t)
	if err := Prepare(0); err != nil {
		t.Fatalf("Prepare(0): %v", err)
	}
	arch, kind, err := moduleInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := Device(0)
	t.Logf("gather module for %v: arch %d, %s", info, arch, kind)
	if want := os.Getenv("IBMB_EXPECT_MODULE"); want != "" {
		if got := fmt.Sprintf("%d/%s", arch, kind); got != want {
			t.Errorf("gather module built as %s, want %s", got, want)
		}
	}
	if arch > info.Major*10+info.Minor {
		t.Errorf("arch %d is above the device's compute capability %d.%d", arch, info.Major, info.Minor)
	}
}

func TestGatherGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(1, 2))
	sweepRowsGPU(t, rng, rowcopy.Gather,
		[]int64{1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 24, 32, 48, 64, 96, 100, 128, 256, 260, 520, 1000, 1024, 4096, 4100},
		37, 61, [][3]int64{
			{16, 1000, 50000},
			{4, 3000, 20000},
			{512, 5000, 4000},
			{1 << 18, 4, 3},
			{(1 << 18) + 4, 3, 2},
			{1 << 16, 1, 1},
			{3, 1, 1},
		})

	// The per-thread default stream handle (CU_STREAM_PER_THREAD) works too.
	b := newRowCase(t, rng, rowcopy.Gather, 64, 10, 20, 0, 0)
	idx := rowIDs(rng, rowcopy.Gather, 20, 10)
	b.setIdx(idx)
	if err := Gather(0, b.dst, b.src, 10, 64, b.idx, 20, 2); err != nil {
		t.Fatalf("per-thread stream: %v", err)
	}
	b.verify(idx, "per-thread stream")
}

// TestRowsBadIndexGPU: Gather and Scatter refuse an id list naming the
// smallest position involved in an error (out of range, or for Scatter a
// repeated id), with the error kind of that error, and leave dst alone; the
// device keeps working afterwards.
func TestRowsBadIndexGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const rowBytes = 32
	const gRows, gN = 10, 100 // gather: source rows, ids
	const sRows, sN = 100, 50 // scatter: store rows, ids
	for _, bc := range []struct {
		op         rowcopy.Op
		set        map[int]int64
		pos        int
		kind       error
		text       string
		emptyTable bool
	}{
		{op: rowcopy.Gather, set: map[int]int64{7: gRows}, pos: 7},
		{op: rowcopy.Gather, set: map[int]int64{0: -1}, pos: 0},
		{op: rowcopy.Gather, set: map[int]int64{99: 1 << 40}, pos: 99},
		{op: rowcopy.Gather, set: map[int]int64{50: -5, 13: 11, 80: 10}, pos: 13},
		{op: rowcopy.Gather, emptyTable: true, pos: 0},
		{op: rowcopy.Scatter, set: map[int]int64{7: sRows}, pos: 7},
		{op: rowcopy.Scatter, set: map[int]int64{0: -1}, pos: 0},
		{op: rowcopy.Scatter, set: map[int]int64{20: 3, 40: 3}, pos: 20, kind: ErrValue, text: "occurs more than once"},
		// The smallest position involved in any error wins.
		{op: rowcopy.Scatter, set: map[int]int64{30: 1 << 40, 10: 99, 45: 99}, pos: 10, kind: ErrValue, text: "occurs more than once"},
		{op: rowcopy.Scatter, set: map[int]int64{5: -3, 10: 99, 45: 99}, pos: 5},
	} {
		if bc.kind == nil {
			bc.kind, bc.text = ErrIndex, "out of range"
		}
		what := fmt.Sprintf("op %d %v", bc.op, bc.set)
		c, idx := badIndexCase(t, rng, bc.op, rowBytes, gRows, gN, sRows, sN)
		for p, v := range bc.set {
			idx[p] = v
		}
		c.setIdx(idx)
		tableRows := c.tableRows
		if bc.emptyTable {
			tableRows = 0
		}
		err := c.run(tableRows, int64(len(idx)))
		if !errors.Is(err, bc.kind) {
			t.Fatalf("%s: got %v, want %v", what, err, bc.kind)
		}
		if want := fmt.Sprintf("idx[%d] = %d ", bc.pos, idx[bc.pos]); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), bc.text) {
			t.Errorf("%s: error %q does not name %q / %q", what, err, want, bc.text)
		}
		c.verifyUntouched(what)
	}
	// The device keeps working after refused calls.
	for _, op := range []rowcopy.Op{rowcopy.Gather, rowcopy.Scatter} {
		c, idx := badIndexCase(t, rng, op, rowBytes, gRows, gN, sRows, sN)
		c.setIdx(idx)
		if err := c.run(c.tableRows, int64(len(idx))); err != nil {
			t.Fatal(err)
		}
		c.verify(idx, fmt.Sprintf("op %d after refused calls", op))
	}
}

// badIndexCase returns a case of TestRowsBadIndexGPU with valid ids: random
// ones for a gather, distinct ones for a scatter that avoid 3 and 99 (so
// that the repeats a test plants are the only ones).
func badIndexCase(t *testing.T, rng *rand.Rand, op rowcopy.Op, rowBytes, gRows, gN, sRows, sN int64) (*rowCase, []int64) {
	t.Helper()
	if op == rowcopy.Gather {
		return newRowCase(t, rng, op, rowBytes, gRows, gN, 0, 0), rowIDs(rng, op, gN, gRows)
	}
	idx := make([]int64, 0, sRows)
	for _, v := range rng.Perm(int(sRows)) {
		if v != 3 && v != 99 {
			idx = append(idx, int64(v))
		}
	}
	return newRowCase(t, rng, op, rowBytes, sRows, sN, 0, 0), idx[:sN]
}

func TestGatherConcurrentGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const workers = 4
	bufs := make([]*rowCase, workers)
	idxs := make([][]int64, workers)
	for w := range bufs {
		bufs[w] = newRowCase(t, rng, rowcopy.Gather, 48, 20, 300, 0, 0)
		idxs[w] = rowIDs(rng, rowcopy.Gather, 300, 20)
		if w == workers-1 {
			idxs[w][17] = 20 // one worker gets a bad index
		}
		bufs[w].setIdx(idxs[w])
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range bufs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := bufs[w]
			for rep := 0; rep < 5 && errs[w] == nil; rep++ {
				errs[w] = Gather(0, b.dst, b.src, 20, 48, b.idx, 300, 0)
			}
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if w == workers-1 {
			if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), "idx[17] = 20 ") {
				t.Errorf("worker %d: got %v, want ErrIndex at 17", w, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
		bufs[w].verify(idxs[w], fmt.Sprintf("worker %d", w))
	}
}

func TestMemcpyBandwidthGPU(t *testing.T) {
	requireGPU(t)
	size := int64(256 << 20)
	if testing.Short() || strings.Contains(os.Getenv("IBMB_LIBCUDA"), "fake") {
		size = 8 << 20
	}
	gbps, err := MemcpyBandwidth(0, size)
	if err != nil {
		t.Fatal(err)
	}
	if gbps <= 0 {
		t.Fatalf("MemcpyBandwidth = %v GB/s", gbps)
	}
	t.Logf("device-to-device copy of %d MiB: %.1f GB/s", size>>20, gbps)
}
