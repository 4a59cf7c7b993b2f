package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// arenaFixture is a random symmetric graph with labels, float32 features and
// random batches (sorted distinct nodes, outputs a sorted subset).
type arenaFixture struct {
	g                           *graph.CSR
	labels                      []int64
	x                           []float32
	width                       int
	nodePtr, nodes, outPtr, out []int64
}

func newArenaFixture(t testing.TB, seed uint64, n, e, batches int) *arenaFixture {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	src, dst := make([]int64, e), make([]int64, e)
	for i := range src {
		src[i], dst[i] = r.Int64N(int64(n)), r.Int64N(int64(n))
	}
	g, err := graph.FromCOO(src, dst, n, graph.Options{Symmetrize: true, DropDuplicates: true, AddSelfLoops: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &arenaFixture{g: g, width: 5, nodePtr: []int64{0}, outPtr: []int64{0}}
	f.labels = make([]int64, n)
	f.x = make([]float32, n*f.width)
	for i := range f.labels {
		f.labels[i] = r.Int64N(4)
	}
	for i := range f.x {
		f.x[i] = r.Float32()
	}
	for range batches {
		size := 1 + r.IntN(max(1, n/4))
		ids := r.Perm(n)[:size]
		slices.Sort(ids)
		for _, v := range ids {
			f.nodes = append(f.nodes, int64(v))
			if r.IntN(3) == 0 {
				f.out = append(f.out, int64(v))
			}
		}
		f.nodePtr = append(f.nodePtr, int64(len(f.nodes)))
		f.outPtr = append(f.outPtr, int64(len(f.out)))
	}
	return f
}

func (f *arenaFixture) build(t testing.TB, norm graph.Norm, withX bool) *Arena {
	t.Helper()
	opt := ArenaOptions{Norm: norm, Labels: f.labels, Params: `{"test":true}`}
	if withX {
		opt.X, opt.RowBytes, opt.DType = unsafe.Pointer(&f.x[0]), int64(4*f.width), DTypeFloat32
	}
	return f.arena(t, opt)
}

// arena builds the fixture's batches with opt.
func (f *arenaFixture) arena(t testing.TB, opt ArenaOptions) *Arena {
	t.Helper()
	a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// halo returns the fixture graph's in-edge graph (HaloGraph).
func (f *arenaFixture) halo(t testing.TB, norm graph.Norm, loops bool) *graph.CSR {
	t.Helper()
	hg, err := HaloGraph(f.g, norm, loops)
	if err != nil {
		t.Fatal(err)
	}
	return hg
}

// saveAndOpen writes a to the file name in a new temporary folder and opens
// that file (verified); the opened arena is closed at cleanup.
func saveAndOpen(t testing.TB, a *Arena, name string) (*Arena, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := a.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := OpenFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, path
}

// check compares every batch of a with a brute-force reference.
func (f *arenaFixture) check(t *testing.T, a *Arena, norm graph.Norm, withX bool) {
	t.Helper()
	if a.NumBatches() != len(f.nodePtr)-1 {
		t.Fatalf("%d batches, want %d", a.NumBatches(), len(f.nodePtr)-1)
	}
	for b := range a.NumBatches() {
		v := a.Batch(b)
		ns := f.nodes[f.nodePtr[b]:f.nodePtr[b+1]]
		os := f.out[f.outPtr[b]:f.outPtr[b+1]]
		if !slices.Equal(v.NID, outputsFirst(os, ns)) {
			t.Fatalf("batch %d: nid %v, want outputs first %v", b, v.NID, outputsFirst(os, ns))
		}
		nout := 0
		for i, id := range v.NID {
			want := uint8(0)
			if slices.Contains(os, id) {
				want = 1
			}
			if v.OutMask[i] != want {
				t.Fatalf("batch %d node %d: mask %d, want %d", b, id, v.OutMask[i], want)
			}
			nout += int(want)
			if v.Y[i] != f.labels[id] {
				t.Fatalf("batch %d: label differs", b)
			}
		}
		if nout != v.NumOut {
			t.Fatalf("batch %d: NumOut %d, want %d", b, v.NumOut, nout)
		}
		// Induced edges by brute force: every (i, j) with an edge ns[i]→ns[j]
		// in local ids of the arena's order (outputs first), each row's
		// targets ascending.
		ns = outputsFirst(os, ns)
		var want [][2]int64
		for i, u := range ns {
			var row []int64
			for _, w := range f.g.Row(int(u)) {
				if j := slices.Index(ns, int64(w)); j >= 0 {
					row = append(row, int64(j))
				}
			}
			slices.Sort(row)
			for _, j := range row {
				want = append(want, [2]int64{int64(i), j})
			}
		}
		var got [][2]int64
		for k := range v.Src {
			got = append(got, [2]int64{v.Src[k], v.Dst[k]})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("batch %d: %d induced edges, want %d (or different)", b, len(got), len(want))
		}
		// Weights from the batch's own degrees.
		deg := make([]float64, len(ns))
		for _, e := range want {
			deg[e[0]]++
		}
		for k, e := range want {
			var w float64
			switch norm {
			case graph.NormSym:
				w = 1 / math.Sqrt(deg[e[0]]*deg[e[1]])
			case graph.NormRow:
				w = 1 / deg[e[0]]
			default:
				w = 1
			}
			if math.Abs(float64(v.Weight[k])-w) > 1e-6*w {
				t.Fatalf("batch %d edge %d: weight %g, want %g", b, k, v.Weight[k], w)
			}
		}
		if withX {
			for i, id := range ns {
				row := unsafe.Slice((*float32)(unsafe.Pointer(&v.X[i*4*f.width])), f.width)
				if !slices.Equal(row, f.x[int(id)*f.width:(int(id)+1)*f.width]) {
					t.Fatalf("batch %d: feature row of node %d differs", b, id)
				}
			}
		} else if v.X != nil {
			t.Fatalf("batch %d: features stored without being asked", b)
		}
	}
}

func TestArenaMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name string
		norm graph.Norm
		x    bool
	}{{"sym+x", graph.NormSym, true}, {"rw", graph.NormRow, false}, {"none+x", graph.NormNone, true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newArenaFixture(t, 3, 300, 1500, 12)
			a := f.build(t, tc.norm, tc.x)
			defer a.Close()
			f.check(t, a, tc.norm, tc.x)
			if a.Params() != `{"test":true}` || a.Norm() != tc.norm || !a.HasLabels() {
				t.Fatalf("metadata: %q %v %v", a.Params(), a.Norm(), a.HasLabels())
			}
		})
	}
}

func TestArenaSaveLoad(t *testing.T) {
	f := newArenaFixture(t, 5, 200, 1000, 9)
	a := f.build(t, graph.NormSym, true)
	defer a.Close()
	b, path := saveAndOpen(t, a, "batches.ibmb")
	if !bytes.Equal(a.mem, b.mem) {
		t.Fatal("loaded arena differs from the saved one")
	}
	f.check(t, b, graph.NormSym, true)
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(matches) != 0 {
		t.Fatalf("temporary files left behind: %v", matches)
	}
}

func TestOpenFileRejectsDamage(t *testing.T) {
	f := newArenaFixture(t, 9, 100, 400, 4)
	a := f.build(t, graph.NormRow, true)
	defer a.Close()
	good := slices.Clone(a.mem)
	dir := t.TempDir()
	cases := map[string]func([]byte) []byte{
		"empty":            func(b []byte) []byte { return nil },
		"truncated header": func(b []byte) []byte { return b[:100] },
		"truncated data":   func(b []byte) []byte { return b[:len(b)-100] },
		"bad magic":        func(b []byte) []byte { b[0] = 'X'; return b },
		"header bit flip":  func(b []byte) []byte { b[20] ^= 1; return b },
		"payload bit flip": func(b []byte) []byte { b[len(b)/2+headerSize/2] ^= 0x10; return b },
		"other version": func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8:], 99)
			binary.LittleEndian.PutUint32(b[headerSize-4:], crc32Header(b))
			return b
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, damage(slices.Clone(good)), 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := OpenFile(path, true)
			if !errors.Is(err, ErrFormat) {
				if b != nil {
					b.Close()
				}
				t.Fatalf("got %v, want ErrFormat", err)
			}
			t.Log(err)
		})
	}
}

func crc32Header(b []byte) uint32 { return crc32Sum(b[:headerSize-4]) }

func TestBuildArenaErrors(t *testing.T) {
	f := newArenaFixture(t, 1, 50, 100, 2)
	for name, c := range map[string]struct {
		nodePtr, nodes, outPtr, out []int64
	}{
		"unsorted":        {[]int64{0, 2}, []int64{3, 1}, []int64{0, 0}, nil},
		"duplicate":       {[]int64{0, 2}, []int64{1, 1}, []int64{0, 0}, nil},
		"out of range":    {[]int64{0, 1}, []int64{50}, []int64{0, 0}, nil},
		"output not node": {[]int64{0, 1}, []int64{1}, []int64{0, 1}, []int64{2}},
		"bad pointers":    {[]int64{0, 3}, []int64{1}, []int64{0, 0}, nil},
	} {
		if _, err := BuildArena(f.g, c.nodePtr, c.nodes, c.outPtr, c.out, ArenaOptions{}); !errors.Is(err, graph.ErrValue) && !errors.Is(err, graph.ErrIndex) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, ArenaOptions{Labels: []int64{1}}); !errors.Is(err, graph.ErrValue) {
		t.Errorf("labels length: %v", err)
	}
}

func TestMaterializeNodeWise(t *testing.T) {
	f := newArenaFixture(t, 4, 400, 3000, 1)
	outputs := make([]int64, 0, 100)
	for v := int64(0); v < 400; v += 4 {
		outputs = append(outputs, v)
	}
	bs, err := NodeWise(f.g, outputs, NodeWiseOptions{NumAuxNodes: 8, MaxOutputsPerBatch: 30, Alpha: 0.25, Eps: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	a, err := bs.Materialize(f.g, ArenaOptions{Norm: graph.NormSym, Labels: f.labels})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	outs := 0
	for b := range a.NumBatches() {
		v := a.Batch(b)
		out, nodes := bs.Batch(b)
		if !slices.Equal(v.NID, outputsFirst(out, nodes)) || v.NumOut != len(out) {
			t.Fatalf("batch %d differs from its description", b)
		}
		outs += v.NumOut
	}
	if outs != len(outputs) {
		t.Fatalf("%d output nodes in the arena, want %d", outs, len(outputs))
	}
}

// outputsFirst is the arena's node order for a batch: the (sorted) outputs,
// then the other nodes in ascending order.
func outputsFirst(out, nodes []int64) []int64 {
	r := slices.Clone(out)
	for _, v := range nodes {
		if !slices.Contains(out, v) {
			r = append(r, v)
		}
	}
	return r
}
