package cuda

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"
)

// TestMemoryGPU runs the memory, stream and event plumbing on a device (the
// fake driver in CI): allocations are zeroed and counted by MemInfo, an
// asynchronous copy through pinned memory on a side stream lands, events
// order streams, and a repeated scatter id reports ErrDuplicate.
func TestMemoryGPU(t *testing.T) {
	requireGPU(t)
	free0, total, err := MemInfo(0)
	if err != nil || total <= 0 || free0 > total {
		t.Fatalf("MemInfo = %d, %d, %v", free0, total, err)
	}
	const n = 4096
	d, err := Alloc(0, n)
	if err != nil {
		t.Fatal(err)
	}
	if free1, _, err := MemInfo(0); err != nil || free1 > free0-n {
		t.Errorf("MemInfo after Alloc(%d): free %d -> %d, %v", n, free0, free1, err)
	}
	got := make([]byte, n)
	if err := CopyFromDevice(0, unsafe.Pointer(&got[0]), d, n); err != nil || !bytes.Equal(got, make([]byte, n)) {
		t.Fatalf("Alloc not zero-filled (%v)", err)
	}
	h, err := AllocHost(0, n)
	if err != nil {
		t.Fatal(err)
	}
	hb := unsafe.Slice((*byte)(h), n)
	for i := range hb {
		hb[i] = byte(i * 7)
	}
	s, err := NewStream(0)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvent(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		err  error
	}{
		{"CopyToDeviceAsync", CopyToDeviceAsync(0, d, h, n, s)},
		{"RecordEvent", RecordEvent(0, ev, s)},
		{"StreamWaitEvent", StreamWaitEvent(0, 0, ev)},
		{"EventSynchronize", EventSynchronize(0, ev)},
		{"StreamSynchronize", StreamSynchronize(0, s)},
	} {
		if step.err != nil {
			t.Fatalf("%s: %v", step.name, step.err)
		}
	}
	if err := CopyFromDevice(0, unsafe.Pointer(&got[0]), d, n); err != nil || !bytes.Equal(got, hb) {
		t.Fatalf("async copy did not land (%v)", err)
	}
	// A repeated scatter id: ErrDuplicate and ErrValue, nothing written.
	ids := make([]byte, 0, 16)
	ids = binary.LittleEndian.AppendUint64(ids, 3)
	ids = binary.LittleEndian.AppendUint64(ids, 3)
	idx, err := Alloc(0, 16)
	if err != nil {
		t.Fatal(err)
	}
	if err := CopyToDevice(0, idx, unsafe.Pointer(&ids[0]), 16); err != nil {
		t.Fatal(err)
	}
	err = Scatter(0, d, 64, 16, d+2048, idx, 2, s) // rows 0..63 of 16 bytes; src past them
	if !errors.Is(err, ErrDuplicate) || !errors.Is(err, ErrValue) {
		t.Errorf("Scatter with a repeated id: %v, want ErrDuplicate and ErrValue", err)
	}
	for _, e := range []error{Free(0, idx), DestroyEvent(0, ev), DestroyStream(0, s), FreeHost(0, h), Free(0, d)} {
		if e != nil {
			t.Error(e)
		}
	}
	if free2, _, err := MemInfo(0); err != nil || free2 < free0 {
		t.Errorf("MemInfo after Free: %d, want >= %d (%v)", free2, free0, err)
	}
	if _, err := Alloc(0, 0); !errors.Is(err, ErrValue) {
		t.Errorf("Alloc(0): %v, want ErrValue", err)
	}
	if _, err := NewStream(-1); !errors.Is(err, ErrValue) {
		t.Errorf("NewStream(-1): %v, want ErrValue", err)
	}
}
