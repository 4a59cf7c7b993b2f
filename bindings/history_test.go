package bindings

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

func TestHistoryBindings(t *testing.T) {
	defer memlimit.Override(1 << 30)()
	h0 := NumHandles()
	dims := []int64{3, 5}
	h, err := HistoryNew(10, addr(dims), 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := HistoryNumNodes(h); n != 10 {
		t.Fatal("num nodes")
	}
	if d, _ := HistoryDim(h, 1); d != 5 {
		t.Fatal("dim")
	}
	if b, _ := HistoryBytes(h); b != 10*(3+5)*2 {
		t.Fatal("bytes")
	}
	rows := []byte("abcdefABCDEF")
	ids := []int64{7, 2}
	if err := HistoryPush(h, 0, addr(rows), addr(ids), 2); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 18)
	pull := []int64{2, 0, 7}
	if err := HistoryPull(h, 0, addr(pull), 3, addr(out)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, []byte("ABCDEF\x00\x00\x00\x00\x00\x00abcdef")) {
		t.Fatalf("pulled %q", out)
	}
	dup := []int64{1, 1}
	bad := []int64{0, 10}
	for _, c := range []struct {
		name, want string
		err        error
	}{
		{"repeat", "ibmb:value: history: push: index 1 occurs at positions 0 and 1", HistoryPush(h, 0, addr(rows), addr(dup), 2)},
		{"push range", "ibmb:index: history: push: index 10 at position 1", HistoryPush(h, 0, addr(rows), addr(bad), 2)},
		{"pull range", "ibmb:index: history: pull: index 10 at position 1", HistoryPull(h, 0, addr(bad), 2, addr(out))},
		{"layer", "ibmb:value: history: invalid argument: layer 2 out of range", HistoryPull(h, 2, addr(pull), 3, addr(out))},
		{"dim layer", "ibmb:value: ", func() error { _, err := HistoryDim(h, -1); return err }()},
		{"new dtype", "ibmb:value: history: invalid argument: unknown dtype", func() error { _, err := HistoryNew(10, addr(dims), 2, 7); return err }()},
		{"new layers", "ibmb:value: ", func() error { _, err := HistoryNew(10, addr(dims), 0, 1); return err }()},
		{"wild layers", "ibmb:value: ", func() error { _, err := HistoryNew(10, addr(dims), 1<<40, 1); return err }()},
		{"new memory", "ibmb:memory: ", func() error { _, err := HistoryNew(1<<30, addr(dims), 2, 4); return err }()},
		{"scatter repeat", "ibmb:value: scatter: index 1 occurs", Scatter(addr(out), 3, 6, addr(rows), addr(dup), 2)},
		{"scatter range", "ibmb:index: scatter: index 10", Scatter(addr(out), 3, 6, addr(rows), addr(bad), 2)},
		{"wrong handle", "ibmb:value: ", func() error { _, err := HistoryNumLayers(-5); return err }()},
	} {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.name, c.err, c.want)
		}
	}
	if err := Free(h); err != nil {
		t.Fatal(err)
	}
	if NumHandles() != h0 {
		t.Fatal("handle leaked")
	}
	if err := HistoryPull(h, 0, addr(pull), 3, addr(out)); err == nil {
		t.Fatal("freed store still answers")
	}
}
