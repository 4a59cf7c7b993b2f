package bindings

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/kernels/cuda"
	"github.com/ibmb-dev/ibmb/kernels/cuda/cudatest"
)

// TestHistoryGPUBindingsFake runs TestHistoryGPUBindingsChild against the
// fake CUDA driver in a child process (the driver loads once per process).
func TestHistoryGPUBindingsFake(t *testing.T) {
	if os.Getenv("IBMB_BINDINGS_GPU_CHILD") != "" {
		t.Skip("child process")
	}
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		if os.Getenv("IBMB_REQUIRE_NVRTC") == "1" {
			t.Fatal(err)
		}
		t.Skipf("skipping: NVRTC not found (%v)", err)
	}
	so := cudatest.BuildFakeDriver(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHistoryGPUBindingsChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "IBMB_BINDINGS_GPU_CHILD=1", "IBMB_LIBCUDA="+so, "IBMB_CACHE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHistoryGPUBindingsChild ") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestHistoryGPUBindingsChild: device and page-locked stores through the
// bindings: push/pull bit-exact with the host store, asynchronous pull and
// wait, error tags, handles freed. Without a GPU (and not as the child of
// the test above) it checks that the GPU placements report unavailable.
func TestHistoryGPUBindingsChild(t *testing.T) {
	h0 := NumHandles()
	dims := []int64{3}
	if cuda.Available() != nil {
		for _, pl := range []int{1, 2} {
			_, err := HistoryNewOn(10, addr(dims), 1, 1, pl, 0)
			if err == nil || !strings.HasPrefix(err.Error(), "ibmb:unavailable: ") {
				t.Errorf("placement %d without a GPU: %v", pl, err)
			}
		}
		if _, err := HistoryNewOn(10, addr(dims), 1, 1, 9, 0); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
			t.Errorf("placement 9: %v", err)
		}
		return
	}
	rows := []byte("0123456789ab0123456789abABCDEFGHIJKL")[:36] // 3 rows of 12 bytes
	ids := []int64{9, 0, 4}
	pull := []int64{4, 4, 9, 1}
	want := make([]byte, 48)
	copy(want[0:], rows[24:36])
	copy(want[12:], rows[24:36])
	copy(want[24:], rows[0:12])
	devBuf := func(b []byte) uintptr {
		d, err := cuda.Alloc(0, int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if err := cuda.CopyToDevice(0, d, unsafe.Pointer(&b[0]), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		return d
	}
	read := func(d uintptr, n int) []byte {
		b := make([]byte, n)
		if err := cuda.CopyFromDevice(0, unsafe.Pointer(&b[0]), d, int64(n)); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Device store.
	h, err := HistoryNewOn(10, addr(dims), 1, 1, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := HistoryPlacement(h); p != 2 {
		t.Errorf("placement %d", p)
	}
	dRows, dIDs, dPull, dOut := devBuf(rows), devBuf(unsafe.Slice((*byte)(unsafe.Pointer(&ids[0])), 24)),
		devBuf(unsafe.Slice((*byte)(unsafe.Pointer(&pull[0])), 32)), devBuf(make([]byte, 48))
	if err := HistoryPushDevice(h, 0, dRows, dIDs, 3, 0); err != nil {
		t.Fatal(err)
	}
	if err := HistoryPullDevice(h, 0, dPull, 4, dOut, 0); err != nil {
		t.Fatal(err)
	}
	if got := read(dOut, 48); !bytes.Equal(got, want) {
		t.Errorf("device pull %q, want %q", got, want)
	}
	if err := HistoryPull(h, 0, addr(pull), 4, addr(make([]byte, 48))); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Errorf("host pull on a device store: %v", err)
	}
	bad := devBuf(unsafe.Slice((*byte)(unsafe.Pointer(&[]int64{10}[0])), 8))
	if err := HistoryPullDevice(h, 0, bad, 1, dOut, 0); err == nil || !strings.HasPrefix(err.Error(), "ibmb:index: ") {
		t.Errorf("device pull of id 10: %v", err)
	}
	if err := Free(h); err != nil {
		t.Fatal(err)
	}
	// Page-locked store with an asynchronous pull.
	h, err = HistoryNewOn(10, addr(dims), 1, 1, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := HistoryPush(h, 0, addr(rows), addr(ids), 3); err != nil {
		t.Fatal(err)
	}
	p, err := HistoryPullAsync(h, 0, addr(pull), 4, dOut, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := HistoryWait(p); err != nil {
		t.Fatal(err)
	}
	if got := read(dOut, 48); !bytes.Equal(got, want) {
		t.Errorf("async pull %q, want %q", got, want)
	}
	if _, err := HistoryPullAsync(h, 0, addr([]int64{1, 10}), 2, dOut, 0); err == nil || !strings.HasPrefix(err.Error(), "ibmb:index: ") {
		t.Errorf("async pull of id 10: %v", err)
	}
	p2, err := HistoryPullAsync(h, 0, addr(pull), 4, dOut, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []int{p, p2, h} { // p2 never waited for: Free waits
		if err := Free(x); err != nil {
			t.Error(err)
		}
	}
	for _, d := range []uintptr{dRows, dIDs, dPull, dOut, bad} {
		cuda.Free(0, d)
	}
	if NumHandles() != h0 {
		t.Errorf("handles leaked: %d -> %d", h0, NumHandles())
	}
}
