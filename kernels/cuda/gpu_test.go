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

func newGatherBuffers(t *testing.T, rng *rand.Rand, rowBytes, srcRows, n, srcOff, dstOff int64) *rowCase {
	t.Helper()
	return newRowCase(t, rng, rowcopy.Gather, rowBytes, srcRows, n, srcOff, dstOff)
}

func randomIdx(rng *rand.Rand, n, srcRows int64) []int64 {
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = rng.Int64N(srcRows)
	}
	return idx
}

func TestGatherGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(1, 2))
	rowSizes := []int64{1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 24, 32, 48, 64, 96, 100, 128, 256, 260, 520, 1000, 1024, 4096, 4100}
	offsets := []struct{ src, dst int64 }{{0, 0}, {4, 0}, {0, 8}, {1, 3}, {16, 48}}
	for _, rowBytes := range rowSizes {
		for _, off := range offsets {
			const srcRows, n = 37, 61
			what := fmt.Sprintf("rowBytes=%d srcOff=%d dstOff=%d", rowBytes, off.src, off.dst)
			b := newGatherBuffers(t, rng, rowBytes, srcRows, n, off.src, off.dst)
			idx := randomIdx(rng, n, srcRows)
			idx[0], idx[n-1] = 0, srcRows-1 // first and last source rows
			b.setIdx(idx)
			if err := Gather(0, b.dst, b.src, srcRows, rowBytes, b.idx, n, 0); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			b.verify(idx, what)
		}
	}

	// Shapes that exercise the launch geometry: many rows (grid-stride in
	// x), few huge rows (columns split in y), single rows.
	for _, c := range []struct{ rowBytes, srcRows, n int64 }{
		{16, 1000, 50000},
		{4, 3000, 20000},
		{512, 5000, 4000},
		{1 << 18, 4, 3},
		{(1 << 18) + 4, 3, 2},
		{1 << 16, 1, 1},
		{3, 1, 1},
	} {
		what := fmt.Sprintf("rowBytes=%d srcRows=%d n=%d", c.rowBytes, c.srcRows, c.n)
		b := newGatherBuffers(t, rng, c.rowBytes, c.srcRows, c.n, 0, 0)
		idx := randomIdx(rng, c.n, c.srcRows)
		b.setIdx(idx)
		if err := Gather(0, b.dst, b.src, c.srcRows, c.rowBytes, b.idx, c.n, 0); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		b.verify(idx, what)
	}

	// The per-thread default stream handle (CU_STREAM_PER_THREAD) works too.
	b := newGatherBuffers(t, rng, 64, 10, 20, 0, 0)
	idx := randomIdx(rng, 20, 10)
	b.setIdx(idx)
	if err := Gather(0, b.dst, b.src, 10, 64, b.idx, 20, 2); err != nil {
		t.Fatalf("per-thread stream: %v", err)
	}
	b.verify(idx, "per-thread stream")
}

func TestGatherBadIndexGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const srcRows, n, rowBytes = 10, 100, 32
	for _, c := range []struct {
		bad      map[int]int64
		pos      int
		val      int64
		emptySrc bool
	}{
		{bad: map[int]int64{7: srcRows}, pos: 7, val: srcRows},
		{bad: map[int]int64{0: -1}, pos: 0, val: -1},
		{bad: map[int]int64{99: 1 << 40}, pos: 99, val: 1 << 40},
		{bad: map[int]int64{50: -5, 13: 11, 80: 10}, pos: 13, val: 11},
		{emptySrc: true, pos: 0},
	} {
		b := newGatherBuffers(t, rng, rowBytes, srcRows, n, 0, 0)
		idx := randomIdx(rng, n, srcRows)
		for p, v := range c.bad {
			idx[p] = v
		}
		rows := int64(srcRows)
		if c.emptySrc {
			rows = 0
			c.val = idx[0]
		}
		b.setIdx(idx)
		err := Gather(0, b.dst, b.src, rows, rowBytes, b.idx, n, 0)
		if !errors.Is(err, ErrIndex) {
			t.Fatalf("bad %v: got %v, want ErrIndex", c.bad, err)
		}
		if want := fmt.Sprintf("idx[%d] = %d ", c.pos, c.val); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
		b.verifyUntouched(fmt.Sprintf("bad %v", c.bad))
	}
	// The device keeps working after a refused call.
	b := newGatherBuffers(t, rng, rowBytes, srcRows, n, 0, 0)
	idx := randomIdx(rng, n, srcRows)
	b.setIdx(idx)
	if err := Gather(0, b.dst, b.src, srcRows, rowBytes, b.idx, n, 0); err != nil {
		t.Fatal(err)
	}
	b.verify(idx, "after refused calls")
}

func TestGatherConcurrentGPU(t *testing.T) {
	requireGPU(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const workers = 4
	bufs := make([]*rowCase, workers)
	idxs := make([][]int64, workers)
	for w := range bufs {
		bufs[w] = newGatherBuffers(t, rng, 48, 20, 300, 0, 0)
		idxs[w] = randomIdx(rng, 300, 20)
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
