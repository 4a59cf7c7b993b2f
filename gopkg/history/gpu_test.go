//go:build cgo

package history

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
	"github.com/ibmb-dev/ibmb/kernels/cuda/cudatest"
)

// The Pinned and Device stores run against kernels/cuda's fake driver
// (a CPU emulation of the driver API running the real kernels of
// cuda/gather.cu) in a child process, since the driver is loaded once per
// process; on a machine with a GPU the *GPU tests run on it directly.
// Nothing here has run on a real GPU yet.

const childEnv = "IBMB_HISTORY_GPU_CHILD"

var gpuTests = []string{
	"TestGPUStoresBitExactGPU", "TestGPUStoreErrorsGPU", "TestPullAsyncGPU", "TestGPUStoreCloseFreesGPU",
	"TestDeviceStoreMemoryGPU", "TestPullAsyncWaitCloseGPU",
}

func TestGPUStoresFakeDriver(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child process")
	}
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		if os.Getenv("IBMB_REQUIRE_NVRTC") == "1" {
			t.Fatalf("IBMB_REQUIRE_NVRTC=1 but NVRTC is not usable: %v", err)
		}
		t.Skipf("skipping: NVRTC not found (%v); set IBMB_NVRTC or IBMB_NVRTC_DIRS", err)
	}
	so := cudatest.BuildFakeDriver(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^("+strings.Join(gpuTests, "|")+")$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1", "IBMB_LIBCUDA="+so, "IBMB_CACHE_DIR="+dir,
		"IBMB_FAKE_LOG="+dir+"/calls.log", "IBMB_FAKE_MEM_MB=256")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	for _, name := range gpuTests {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("child: %s did not pass:\n%s", name, out)
		}
	}
	if testing.Verbose() {
		t.Logf("child output:\n%s", out)
	}
}

func requireGPU(t *testing.T) {
	t.Helper()
	if err := cuda.Available(); err != nil {
		t.Skipf("no GPU: %v", err)
	}
}

// fakeLog returns the fake driver's call log from offset on (and the end
// offset); "" without IBMB_FAKE_LOG (a real GPU).
func fakeLog(t *testing.T, from int) (string, int) {
	t.Helper()
	p := os.Getenv("IBMB_FAKE_LOG")
	if p == "" {
		return "", 0
	}
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b[min(from, len(b)):]), len(b)
}

// ptrStr spells a handle the way the fake driver's log does (printf %p).
func ptrStr(p uintptr) string {
	if p == 0 {
		return "(nil)"
	}
	return fmt.Sprintf("%#x", p)
}

// liveResources replays a call log: the allocations, pinned allocations,
// streams and events alive at its end.
func liveResources(log string) map[string]bool {
	live := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "alloc", "allochost", "stream_create", "event_create":
			live[f[0]+" "+f[1]] = true
		case "free":
			delete(live, "alloc "+f[1])
		case "freehost":
			delete(live, "allochost "+f[1])
		case "stream_destroy":
			delete(live, "stream_create "+f[1])
		case "event_destroy":
			delete(live, "event_create "+f[1])
		}
	}
	return live
}

var gpuDTypes = []DType{dtype.Float32, dtype.Float16, dtype.BFloat16, dtype.Float64}

// TestGPUStoresBitExactGPU: Pinned and Device stores hold exactly what a
// Host store holds after the same pushes, and pull the same bytes (Go
// slices, device pointers, and PullAsync), for every dtype and several row
// widths, repeated pull ids included.
func TestGPUStoresBitExactGPU(t *testing.T) {
	requireGPU(t)
	r := rand.New(rand.NewPCG(3, 4))
	const nodes = 97
	for _, dt := range gpuDTypes {
		for _, dims := range [][]int64{{1, 3}, {8}, {33, 64}} {
			for _, pl := range []Placement{Pinned, Device} {
				host, err := New(nodes, dims, dt) // the reference, same pushes
				if err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("%v %v dims %v", pl, dt, dims)
				s, err := NewWith(nodes, dims, dt, Options{Placement: pl})
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if s.Placement() != pl || s.Bytes() != host.Bytes() {
					t.Fatalf("%s: placement %v bytes %d", what, s.Placement(), s.Bytes())
				}
				for l := range dims {
					rb := host.RowBytes(l)
					for round := 0; round < 2; round++ {
						k := 1 + r.IntN(nodes)
						ids := make([]int64, k)
						for i, v := range r.Perm(nodes)[:k] {
							ids[i] = int64(v)
						}
						rows := randBytes(r, int64(k)*rb)
						if err := host.Push(l, rows, ids); err != nil {
							t.Fatal(err)
						}
						if err := s.Push(l, rows, ids); err != nil {
							t.Fatalf("%s: push: %v", what, err)
						}
					}
					all := make([]int64, nodes)
					for i := range all {
						all[i] = int64(i)
					}
					pull := append(all, 0, nodes-1, 5, 5, 5) // repeats
					want := make([]byte, int64(len(pull))*rb)
					if err := host.Pull(l, pull, want); err != nil {
						t.Fatal(err)
					}
					got := make([]byte, len(want))
					if err := s.Pull(l, pull, got); err != nil {
						t.Fatalf("%s: pull: %v", what, err)
					}
					if !bytes.Equal(got, want) {
						i := 0
						for got[i] == want[i] {
							i++
						}
						t.Fatalf("%s layer %d: pull differs from the host store at byte %d (row %d, id %d): %x vs %x", what, l, i, int64(i)/rb, pull[int64(i)/rb], got[i:i+4], want[i:i+4])
					}
					if pl == Device {
						checkPullDevice(t, s, l, pull, want, what)
					} else {
						checkPullAsync(t, s, l, pull, want, what)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				host.Close()
			}
		}
	}
}

// devBytes uploads b to a new device buffer.
func devBytes(t *testing.T, b []byte) uintptr {
	t.Helper()
	d, err := cuda.Alloc(0, int64(max(len(b), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 {
		if err := cuda.CopyToDevice(0, d, unsafe.Pointer(&b[0]), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { cuda.Free(0, d) })
	return d
}

func devIDs(t *testing.T, ids []int64) uintptr {
	return devBytes(t, unsafe.Slice((*byte)(unsafe.Pointer(&ids[0])), 8*len(ids)))
}

// readDev reads n bytes at device address d.
func readDev(t *testing.T, d uintptr, n int) []byte {
	t.Helper()
	if err := cuda.Synchronize(0); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if err := cuda.CopyFromDevice(0, unsafe.Pointer(&b[0]), d, int64(n)); err != nil {
		t.Fatal(err)
	}
	return b
}

func checkPullDevice(t *testing.T, s *Store, l int, ids []int64, want []byte, what string) {
	t.Helper()
	stream, err := cuda.NewStream(0)
	if err != nil {
		t.Fatal(err)
	}
	defer cuda.DestroyStream(0, stream)
	out := devBytes(t, make([]byte, len(want)))
	if err := s.PullDevice(l, devIDs(t, ids), int64(len(ids)), out, stream); err != nil {
		t.Fatalf("%s: PullDevice: %v", what, err)
	}
	if !bytes.Equal(readDev(t, out, len(want)), want) {
		t.Fatalf("%s: PullDevice differs from the host store", what)
	}
}

func checkPullAsync(t *testing.T, s *Store, l int, ids []int64, want []byte, what string) {
	t.Helper()
	out := devBytes(t, make([]byte, len(want)))
	p, err := s.PullAsync(l, ids, out, 0)
	if err != nil {
		t.Fatalf("%s: PullAsync: %v", what, err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("%s: Wait: %v", what, err)
	}
	if !bytes.Equal(readDev(t, out, len(want)), want) {
		t.Fatalf("%s: PullAsync differs from the host store", what)
	}
}

// TestGPUStoreErrorsGPU: the host store's checks and error kinds hold for
// Pinned and Device stores, and nothing is written on an error.
func TestGPUStoreErrorsGPU(t *testing.T) {
	requireGPU(t)
	r := rand.New(rand.NewPCG(5, 6))
	const nodes = 50
	for _, pl := range []Placement{Pinned, Device} {
		s, err := NewWith(nodes, []int64{4}, dtype.Float32, Options{Placement: pl})
		if err != nil {
			t.Fatal(err)
		}
		rb := s.RowBytes(0)
		seed := make([]int64, nodes)
		for i := range seed {
			seed[i] = int64(i)
		}
		if err := s.Push(0, randBytes(r, nodes*rb), seed); err != nil {
			t.Fatal(err)
		}
		before := make([]byte, nodes*rb)
		if err := s.Pull(0, seed, before); err != nil {
			t.Fatal(err)
		}
		unchanged := func(what string) {
			t.Helper()
			now := make([]byte, nodes*rb)
			if err := s.Pull(0, seed, now); err != nil || !bytes.Equal(now, before) {
				t.Errorf("%v %s: store changed (%v)", pl, what, err)
			}
		}
		cases := []struct {
			name string
			err  error
			want []error
		}{
			{"pull id out of range", s.Pull(0, []int64{1, nodes}, make([]byte, 2*rb)), []error{ErrIndex}},
			{"pull negative id", s.Pull(0, []int64{-1}, make([]byte, rb)), []error{ErrIndex}},
			{"push id out of range", s.Push(0, make([]byte, 2*rb), []int64{3, nodes + 7}), []error{ErrIndex}},
			{"push repeated id", s.Push(0, make([]byte, 3*rb), []int64{3, 9, 3}), []error{ErrDuplicate, ErrValue}},
			{"pull size", s.Pull(0, []int64{1}, make([]byte, rb+1)), []error{ErrValue}},
			{"push size", s.Push(0, make([]byte, rb-1), []int64{1}), []error{ErrValue}},
			{"bad layer", s.Pull(1, []int64{1}, make([]byte, rb)), []error{ErrValue}},
		}
		if pl == Device {
			cases = append(cases,
				struct {
					name string
					err  error
					want []error
				}{"host pointers on a device store", s.PullPtr(0, unsafe.Pointer(&seed[0]), 1, unsafe.Pointer(&before[0])), []error{ErrValue}},
				struct {
					name string
					err  error
					want []error
				}{"PullAsync on a device store", func() error { _, err := s.PullAsync(0, seed, 0, 0); return err }(), []error{ErrValue}})
		} else {
			cases = append(cases, struct {
				name string
				err  error
				want []error
			}{"PullDevice on a pinned store", s.PullDevice(0, 0, 1, 0, 0), []error{ErrValue}})
		}
		for _, c := range cases {
			for _, w := range c.want {
				if !errors.Is(c.err, w) {
					t.Errorf("%v %s: err = %v, want %v", pl, c.name, c.err, w)
				}
			}
			unchanged(c.name)
		}
		// Device pull with a bad id: the device output is not written.
		if pl == Device {
			out := devBytes(t, bytes.Repeat([]byte{0xab}, int(2*rb)))
			err := s.PullDevice(0, devIDs(t, []int64{2, nodes}), 2, out, 0)
			if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), "idx[1]") {
				t.Errorf("PullDevice with a bad id: %v", err)
			}
			if !bytes.Equal(readDev(t, out, int(2*rb)), bytes.Repeat([]byte{0xab}, int(2*rb))) {
				t.Errorf("PullDevice with a bad id wrote its output")
			}
		} else {
			out := devBytes(t, bytes.Repeat([]byte{0xab}, int(2*rb)))
			_, err := s.PullAsync(0, []int64{2, nodes}, out, 0)
			if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), "idx[1]") {
				t.Errorf("PullAsync with a bad id: %v", err)
			}
			if !bytes.Equal(readDev(t, out, int(2*rb)), bytes.Repeat([]byte{0xab}, int(2*rb))) {
				t.Errorf("PullAsync with a bad id wrote its output")
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		for name, err := range map[string]error{
			"pull after close": s.Pull(0, []int64{1}, make([]byte, rb)),
			"push after close": s.Push(0, make([]byte, rb), []int64{1}),
			"PullDevice after close": func() error {
				if pl != Device {
					return ErrValue
				}
				return s.PullDevice(0, 8, 1, 16, 0)
			}(),
			"PullAsync after close": func() error {
				if pl != Pinned {
					return ErrValue
				}
				_, err := s.PullAsync(0, []int64{1}, 8, 0)
				return err
			}(),
		} {
			if !errors.Is(err, ErrValue) {
				t.Errorf("%v %s: %v, want ErrValue", pl, name, err)
			}
		}
	}
	if _, err := NewWith(10, []int64{4}, dtype.Float32, Options{Placement: Device, Device: 3}); !errors.Is(err, cuda.ErrValue) {
		t.Errorf("device ordinal 3 of 1: %v", err)
	}
	if _, err := NewWith(10, []int64{4}, dtype.Float32, Options{Placement: Placement(7)}); !errors.Is(err, ErrValue) {
		t.Errorf("unknown placement: %v", err)
	}
}

// TestPullAsyncGPU: an asynchronous pull is ordered after the consumer's
// stream (event recorded there, waited for by the side stream), copies on
// the side stream, and makes the consumer stream wait for the copy. The
// order is read from the fake driver's call log.
func TestPullAsyncGPU(t *testing.T) {
	requireGPU(t)
	s, err := NewWith(20, []int64{6}, dtype.Float16, Options{Placement: Pinned})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := randBytes(rand.New(rand.NewPCG(7, 8)), 20*s.RowBytes(0))
	all := make([]int64, 20)
	for i := range all {
		all[i] = int64(19 - i)
	}
	if err := s.Push(0, rows, all); err != nil {
		t.Fatal(err)
	}
	consumer, err := cuda.NewStream(0)
	if err != nil {
		t.Fatal(err)
	}
	defer cuda.DestroyStream(0, consumer)
	ids := []int64{4, 4, 0, 19}
	out := devBytes(t, make([]byte, int64(len(ids))*s.RowBytes(0)))
	_, off := fakeLog(t, 0)
	p, err := s.PullAsync(0, ids, out, consumer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("second Wait: %v", err)
	}
	want := make([]byte, int64(len(ids))*s.RowBytes(0))
	if err := s.Pull(0, ids, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readDev(t, out, len(want)), want) {
		t.Fatal("PullAsync rows differ from Pull's")
	}
	side := s.SideStream()
	if side == 0 || side == consumer {
		t.Fatalf("side stream %#x (consumer %#x)", side, consumer)
	}
	log, _ := fakeLog(t, off)
	if log == "" {
		t.Skip("no fake driver log (real GPU): ordering not checked")
	}
	var lines []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "event_record") || strings.HasPrefix(line, "stream_wait_event") ||
			strings.HasPrefix(line, "htod_async") || strings.HasPrefix(line, "event_sync") {
			lines = append(lines, line)
		}
	}
	// event_record E1 stream=C; stream_wait_event stream=S event=E1;
	// htod_async dst=out stream=S; event_record E2 stream=S;
	// stream_wait_event stream=C event=E2; event_sync E2.
	if len(lines) != 6 {
		t.Fatalf("want 6 ordering calls, got:\n%s", strings.Join(lines, "\n"))
	}
	f := func(i int) []string { return strings.Fields(lines[i]) }
	c, sd := ptrStr(consumer), ptrStr(side)
	e1, e2 := f(0)[1], f(3)[1]
	checks := []struct {
		line int
		want string
	}{
		{0, "event_record " + e1 + " stream=" + c},
		{1, "stream_wait_event stream=" + sd + " event=" + e1},
		{2, fmt.Sprintf("htod_async dst=%s bytes=%d stream=%s", ptrStr(out), len(want), sd)},
		{3, "event_record " + e2 + " stream=" + sd},
		{4, "stream_wait_event stream=" + c + " event=" + e2},
		{5, "event_sync " + e2},
	}
	for _, ch := range checks {
		if lines[ch.line] != ch.want {
			t.Errorf("call %d = %q, want %q\nall:\n%s", ch.line, lines[ch.line], ch.want, strings.Join(lines, "\n"))
		}
	}
	if e1 == e2 {
		t.Errorf("one event for both directions")
	}
}

// TestGPUStoreCloseFreesGPU: Close releases every allocation, pinned
// buffer, stream and event a store made, including those of a PullAsync
// nobody waited for.
func TestGPUStoreCloseFreesGPU(t *testing.T) {
	requireGPU(t)
	if err := cuda.Prepare(0); err != nil { // the kernels' module and scratch: process lifetime
		t.Fatal(err)
	}
	warm, _ := NewWith(10, []int64{2}, dtype.Float32, Options{Placement: Device})
	if err := warm.Pull(0, []int64{1}, make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	warm.Close()
	_, off := fakeLog(t, 0)
	if os.Getenv("IBMB_FAKE_LOG") == "" {
		t.Skip("no fake driver log (real GPU)")
	}
	out, err := cuda.Alloc(0, 1<<12)
	if err != nil {
		t.Fatal(err)
	}
	defer cuda.Free(0, out)
	for _, pl := range []Placement{Pinned, Device} {
		s, err := NewWith(64, []int64{4, 8}, dtype.BFloat16, Options{Placement: pl})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Push(1, make([]byte, 2*s.RowBytes(1)), []int64{3, 60}); err != nil {
			t.Fatal(err)
		}
		if err := s.Pull(0, []int64{3, 3}, make([]byte, 2*s.RowBytes(0))); err != nil {
			t.Fatal(err)
		}
		if pl == Pinned {
			p, err := s.PullAsync(1, []int64{3, 60, 3}, out, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PullAsync(0, []int64{1, 2}, out, 0); err != nil { // never waited for
				t.Fatal(err)
			}
		}
		log, _ := fakeLog(t, off)
		if len(liveResources(log)) == 0 {
			t.Fatalf("%v: no live allocations seen before Close:\n%s", pl, log)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		log, _ = fakeLog(t, off)
		if live := liveResources(log); len(live) != 1 || !live["alloc "+ptrStr(out)] {
			t.Errorf("%v: still live after Close: %v", pl, live)
		}
	}
}

// TestDeviceStoreMemoryGPU: a device store larger than the device's free
// memory is refused before anything is allocated.
func TestDeviceStoreMemoryGPU(t *testing.T) {
	requireGPU(t)
	free, _, err := cuda.MemInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	_, off := fakeLog(t, 0)
	rows := free/(64*4) + 1
	s, err := NewWith(rows, []int64{64}, dtype.Float32, Options{Placement: Device})
	if !errors.Is(err, memlimit.ErrMemory) || s != nil || !strings.Contains(err.Error(), "device memory") {
		t.Fatalf("store of %d bytes with %d free: %v", rows*256, free, err)
	}
	if log, _ := fakeLog(t, off); strings.Contains(log, "alloc ") {
		t.Errorf("allocated before refusing:\n%s", log)
	}
}

// BenchmarkDevicePullPush pulls and pushes n random distinct rows of a
// 1e6-node float32 Device store (256 elements per row) with device
// pointers on the legacy default stream, synchronizing after each call;
// throughput in bytes of rows moved. It needs a GPU (on the emulated
// driver the figure would mean nothing, so it skips there too).
func BenchmarkDevicePullPush(b *testing.B) {
	if err := cuda.Available(); err != nil || os.Getenv("IBMB_FAKE_LOG") != "" {
		b.Skip("needs a real GPU")
	}
	if lib, _ := cuda.DriverLibrary(); lib != "libcuda.so.1" {
		b.Skipf("driver %s is not the system's", lib)
	}
	const nodes, n, dim = 1_000_000, 100_000, 256
	s, err := NewWith(nodes, []int64{dim}, dtype.Float32, Options{Placement: Device})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]int64, n)
	for i, p := range r.Perm(nodes)[:n] {
		ids[i] = int64(p)
	}
	rb := s.RowBytes(0)
	dIDs, err := cuda.Alloc(0, 8*n)
	if err != nil {
		b.Fatal(err)
	}
	defer cuda.Free(0, dIDs)
	if err := cuda.CopyToDevice(0, dIDs, unsafe.Pointer(&ids[0]), 8*n); err != nil {
		b.Fatal(err)
	}
	rows, err := cuda.Alloc(0, n*rb)
	if err != nil {
		b.Fatal(err)
	}
	defer cuda.Free(0, rows)
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"pull", func() error { return s.PullDevice(0, dIDs, n, rows, 0) }},
		{"push", func() error { return s.PushDevice(0, rows, dIDs, n, 0) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n * rb)
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
				if err := cuda.Synchronize(0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
