package history

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// view returns layer l's matrix as bytes (tests only).
func view(t *testing.T, s *Store, l int) []byte {
	t.Helper()
	a, err := s.Addr(l)
	if err != nil {
		t.Fatal(err)
	}
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&a))), s.LayerBytes(l))
}

func randBytes(r *rand.Rand, n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestNewErrors(t *testing.T) {
	defer memlimit.Override(64 << 20)()
	cases := []struct {
		name     string
		numNodes int64
		dims     []int64
		dtype    DType
		want     error
		text     string
	}{
		{"no nodes", 0, []int64{4}, dtype.Float32, ErrValue, "numNodes must be positive"},
		{"negative nodes", -3, []int64{4}, dtype.Float32, ErrValue, "numNodes must be positive"},
		{"no layers", 10, nil, dtype.Float32, ErrValue, "at least one layer"},
		{"zero dim", 10, []int64{4, 0}, dtype.Float32, ErrValue, "dims[1] = 0"},
		{"negative dim", 10, []int64{-1}, dtype.Float32, ErrValue, "dims[0] = -1"},
		{"unknown dtype", 10, []int64{4}, DType(9), ErrValue, "unknown dtype DType(9)"},
		{"over the limit", 1 << 20, []int64{64}, dtype.Float32, memlimit.ErrMemory, "history of 1 layers"},
		{"overflow", 1 << 40, []int64{1 << 30, 1 << 30}, dtype.Float64, memlimit.ErrMemory, "more than 2^63"},
	}
	for _, c := range cases {
		s, err := New(c.numNodes, c.dims, c.dtype)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.text)
		}
		if s != nil {
			t.Errorf("%s: store returned with an error", c.name)
		}
	}
}

// TestPushPull: for every dtype and a range of widths, pushes of random
// distinct ids followed by pulls of random (repeating) ids equal a Go model
// of the store, bit for bit; the store starts zero-filled.
func TestPushPull(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dt := range []DType{dtype.Float32, dtype.Float16, dtype.BFloat16, dtype.Float64} {
		for _, dims := range [][]int64{{1}, {3, 7}, {16, 64, 33}, {129}} {
			const nodes = 300
			s, err := New(nodes, dims, dt)
			if err != nil {
				t.Fatal(err)
			}
			if s.NumNodes() != nodes || s.NumLayers() != len(dims) || s.DType() != dt {
				t.Fatal("accessors")
			}
			for l, d := range dims {
				rb := d * dt.Size()
				if s.Dim(l) != d || s.RowBytes(l) != rb || s.LayerBytes(l) != nodes*rb {
					t.Fatalf("layer %d sizes", l)
				}
				model := make([]byte, nodes*rb)
				if !bytes.Equal(view(t, s, l), model) {
					t.Fatal("new store not zero")
				}
				for round := 0; round < 4; round++ {
					n := r.IntN(nodes)
					ids := make([]int64, n)
					for i, p := range r.Perm(nodes)[:n] {
						ids[i] = int64(p)
					}
					rows := randBytes(r, int64(n)*rb)
					if err := s.Push(l, rows, ids); err != nil {
						t.Fatal(err)
					}
					for i, id := range ids {
						copy(model[id*rb:(id+1)*rb], rows[int64(i)*rb:])
					}
					m := r.IntN(2 * nodes)
					pids := make([]int64, m)
					for i := range pids {
						pids[i] = r.Int64N(nodes)
					}
					out := make([]byte, int64(m)*rb)
					if err := s.Pull(l, pids, out); err != nil {
						t.Fatal(err)
					}
					for i, id := range pids {
						if !bytes.Equal(out[int64(i)*rb:int64(i+1)*rb], model[id*rb:(id+1)*rb]) {
							t.Fatalf("%v dims %v layer %d: pulled row %d (node %d) differs", dt, dims, l, i, id)
						}
					}
				}
				if !bytes.Equal(view(t, s, l), model) {
					t.Fatalf("%v layer %d: store differs from the model", dt, l)
				}
			}
			if s.Bytes() <= 0 || s.Close() != nil || s.Close() != nil {
				t.Fatal("Bytes/Close")
			}
		}
	}
}

// TestBadCalls: every rejected call leaves the store and the output as
// they were.
func TestBadCalls(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s, err := New(50, []int64{6}, dtype.Float16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const rb = 12
	init := randBytes(r, 50*rb)
	copy(view(t, s, 0), init)
	rows := randBytes(r, 3*rb)
	cases := []struct {
		name string
		call func(out []byte) error
		want error
		text string
	}{
		{"push id too big", func([]byte) error { return s.Push(0, rows, []int64{1, 50, 2}) }, ErrIndex, "index 50 at position 1"},
		{"push negative id", func([]byte) error { return s.Push(0, rows, []int64{-1, 3, 2}) }, ErrIndex, "index -1 at position 0"},
		{"push repeat", func([]byte) error { return s.Push(0, rows, []int64{4, 9, 4}) }, ErrDuplicate, "occurs at positions 0 and 2"},
		{"push short rows", func([]byte) error { return s.Push(0, rows[:35], []int64{1, 2, 3}) }, ErrValue, "len(rows) = 35"},
		{"push layer", func([]byte) error { return s.Push(1, rows, []int64{1, 2, 3}) }, ErrValue, "layer 1 out of range"},
		{"push layer -1", func([]byte) error { return s.Push(-1, rows, []int64{1, 2, 3}) }, ErrValue, "layer -1"},
		{"pull id too big", func(out []byte) error { return s.Pull(0, []int64{0, 0, 77}, out) }, ErrIndex, "index 77 at position 2"},
		{"pull out length", func(out []byte) error { return s.Pull(0, []int64{0, 1}, out) }, ErrValue, "len(out) = 36"},
		{"pull nil ids", func(out []byte) error { return s.PullPtr(0, nil, 3, unsafe.Pointer(&out[0])) }, ErrValue, "idx is nil"},
		{"push nil rows", func([]byte) error { return s.PushPtr(0, nil, unsafe.Pointer(&[]int64{1}[0]), 1) }, ErrValue, "src is nil"},
	}
	for _, c := range cases {
		out := bytes.Repeat([]byte{0xee}, 3*rb)
		err := c.call(out)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.text)
		}
		if !bytes.Equal(view(t, s, 0), init) {
			t.Fatalf("%s: store changed", c.name)
		}
		if !bytes.Equal(out, bytes.Repeat([]byte{0xee}, 3*rb)) {
			t.Fatalf("%s: output changed", c.name)
		}
	}
	if err := s.Push(0, rows, []int64{4, 9, 4}); !errors.Is(err, ErrValue) {
		t.Errorf("a repeat is also a value error: %v", err)
	}
	// Empty calls succeed.
	if err := s.Push(0, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Pull(0, nil, nil); err != nil {
		t.Fatal(err)
	}
	// A closed store refuses everything.
	s.Close()
	for name, err := range map[string]error{
		"pull": s.Pull(0, []int64{0}, make([]byte, rb)),
		"push": s.Push(0, make([]byte, rb), []int64{0}),
		"addr": func() error { _, err := s.Addr(0); return err }(),
	} {
		if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// TestConcurrent: pulls and pushes of several goroutines on two layers;
// every pulled row is one that some push wrote whole (rows are filled with
// one byte value, so a torn row would mix values). Run with -race.
func TestConcurrent(t *testing.T) {
	const nodes, dim = 2000, 64
	s, err := New(nodes, []int64{dim, dim}, dtype.Float32)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			rb := int64(dim * 4)
			for it := 0; it < 30; it++ {
				l := r.IntN(2)
				n := 1 + r.IntN(500)
				ids := make([]int64, n)
				for i, p := range r.Perm(nodes)[:n] {
					ids[i] = int64(p)
				}
				if g%2 == 0 {
					rows := make([]byte, int64(n)*rb)
					for i := range n {
						v := byte(1 + r.IntN(250))
						for k := int64(0); k < rb; k++ {
							rows[int64(i)*rb+k] = v
						}
					}
					if err := s.Push(l, rows, ids); err != nil {
						errs <- err
						return
					}
				} else {
					out := make([]byte, int64(n)*rb)
					if err := s.Pull(l, ids, out); err != nil {
						errs <- err
						return
					}
					for i := range n {
						row := out[int64(i)*rb : int64(i+1)*rb]
						if !bytes.Equal(row, bytes.Repeat(row[:1], int(rb))) {
							errs <- errors.New("torn row")
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
