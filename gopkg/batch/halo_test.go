package batch

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// refEdge is one in-edge of an exact node in global ids.
type refEdge struct {
	src, dst int64
	w        float32
}

// haloReference computes a halo batch the slow way from a COO edge list
// (directed, possibly repeated): the halo as a sorted id list and the
// in-edges of the exact nodes sorted by (dst, src), weighted like
// nn/halo.py (in-degrees after merging repeats and adding loops).
func haloReference(src, dst []int64, n int, exact []int64, norm graph.Norm, loops bool) ([]int64, []refEdge) {
	type pair struct{ u, v int64 }
	set := map[pair]bool{}
	for i := range src {
		set[pair{src[i], dst[i]}] = true
	}
	if loops {
		for v := range int64(n) {
			set[pair{v, v}] = true
		}
	}
	indeg := make([]float64, n)
	for p := range set {
		indeg[p.v]++
	}
	inv := func(d float64, sqrt bool) float64 {
		if d == 0 {
			return 0
		}
		if sqrt {
			return 1 / math.Sqrt(d)
		}
		return 1 / d
	}
	in := map[int64]bool{}
	for _, v := range exact {
		in[v] = true
	}
	var halo []int64
	var edges []refEdge
	for p := range set {
		if !in[p.v] {
			continue
		}
		w := 1.0
		switch norm {
		case graph.NormSym:
			w = inv(indeg[p.u], true) * inv(indeg[p.v], true)
		case graph.NormRow:
			w = inv(indeg[p.v], false)
		}
		edges = append(edges, refEdge{p.u, p.v, float32(w)})
		if !in[p.u] && !slices.Contains(halo, p.u) {
			halo = append(halo, p.u)
		}
	}
	slices.Sort(halo)
	slices.SortFunc(edges, func(a, b refEdge) int {
		if a.dst != b.dst {
			return int(a.dst - b.dst)
		}
		return int(a.src - b.src)
	})
	return halo, edges
}

// globalEdges returns the view's edges in global ids sorted by (dst, src).
func globalEdges(v View) []refEdge {
	e := make([]refEdge, len(v.Src))
	for k := range v.Src {
		e[k] = refEdge{v.NID[v.Src[k]], v.NID[v.Dst[k]], v.Weight[k]}
	}
	slices.SortFunc(e, func(a, b refEdge) int {
		if a.dst != b.dst {
			return int(a.dst - b.dst)
		}
		return int(a.src - b.src)
	})
	return e
}

func randomCOO(seed uint64, n, e int) ([]int64, []int64) {
	r := rand.New(rand.NewPCG(seed, 3))
	src, dst := make([]int64, e), make([]int64, e)
	for i := range src {
		src[i], dst[i] = r.Int64N(int64(n)), r.Int64N(int64(n))
	}
	return src, dst
}

func TestHaloArenaMatchesReference(t *testing.T) {
	path := [2][]int64{{0, 1, 2, 1, 2, 3}, {1, 2, 3, 0, 1, 2}}
	star := [2][]int64{{1, 2, 3, 4, 0}, {0, 0, 0, 0, 4}} // directed, node 4 only points in
	rs, rd := randomCOO(5, 40, 160)
	dup := [2][]int64{{0, 0, 0, 2, 2}, {1, 1, 1, 1, 0}} // repeated edges merge
	cases := []struct {
		name     string
		coo      [2][]int64
		n        int
		nodePtr  []int64
		nodes    []int64
		outPtr   []int64
		out      []int64
		workers  int
		withFeat bool
	}{
		{"path", path, 4, []int64{0, 2}, []int64{1, 2}, []int64{0, 1}, []int64{2}, 1, true},
		{"star", star, 5, []int64{0, 1, 3}, []int64{0, 3, 4}, []int64{0, 1, 2}, []int64{0, 4}, 2, false},
		{"isolated", path, 6, []int64{0, 2}, []int64{4, 5}, []int64{0, 1}, []int64{5}, 1, true},
		{"duplicates", dup, 3, []int64{0, 1}, []int64{1}, []int64{0, 1}, []int64{1}, 1, false},
		{"random", [2][]int64{rs, rd}, 40, []int64{0, 5, 12, 12 + 3}, []int64{0, 3, 9, 17, 30, 1, 2, 4, 8, 16, 32, 39, 5, 6, 7},
			[]int64{0, 2, 3, 6}, []int64{3, 30, 16, 5, 6, 7}, 3, true},
	}
	for _, c := range cases {
		g, err := graph.FromCOO(c.coo[0], c.coo[1], c.n, graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		labels := make([]int64, c.n)
		x := make([]float32, 2*c.n)
		for i := range labels {
			labels[i], x[2*i], x[2*i+1] = int64(7*i), float32(i), -float32(i)
		}
		for _, norm := range []graph.Norm{graph.NormNone, graph.NormRow, graph.NormSym} {
			for _, loops := range []bool{false, true} {
				hg, err := HaloGraph(g, norm, loops)
				if err != nil {
					t.Fatal(err)
				}
				opt := ArenaOptions{Halo: hg, Labels: labels, Workers: c.workers}
				if c.withFeat {
					opt.X, opt.RowBytes, opt.DType = unsafe.Pointer(&x[0]), 8, DTypeFloat32
				}
				a, err := BuildArena(g, c.nodePtr, c.nodes, c.outPtr, c.out, opt)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if !a.HasHalo() || a.TableCols() != 6 {
					t.Fatalf("%s: HasHalo %v, TableCols %d", c.name, a.HasHalo(), a.TableCols())
				}
				for b := range a.NumBatches() {
					v := a.Batch(b)
					exact := outputsFirst(c.out[c.outPtr[b]:c.outPtr[b+1]], c.nodes[c.nodePtr[b]:c.nodePtr[b+1]])
					halo, edges := haloReference(c.coo[0], c.coo[1], c.n, exact, norm, loops)
					want := append(slices.Clone(exact), halo...)
					if v.NumExact != len(exact) || v.NumOut != int(c.outPtr[b+1]-c.outPtr[b]) || !slices.Equal(v.NID, want) {
						t.Fatalf("%s/%v/%v batch %d: NID %v (exact %d), want %v (exact %d)", c.name, norm, loops, b, v.NID, v.NumExact, want, len(exact))
					}
					got := globalEdges(v)
					if len(got) != len(edges) {
						t.Fatalf("%s/%v/%v batch %d: %d edges, want %d", c.name, norm, loops, b, len(got), len(edges))
					}
					for k := range got {
						if got[k].src != edges[k].src || got[k].dst != edges[k].dst || math.Abs(float64(got[k].w-edges[k].w)) > 1e-6 {
							t.Fatalf("%s/%v/%v batch %d: edge %d is %v, want %v", c.name, norm, loops, b, k, got[k], edges[k])
						}
					}
					for i, id := range v.NID {
						if v.Y[i] != 7*id || (v.OutMask[i] == 1) != (i < v.NumOut) {
							t.Fatalf("%s batch %d: label or mask wrong at %d", c.name, b, i)
						}
						if c.withFeat && unsafe.Slice((*float32)(unsafe.Pointer(&v.X[8*i])), 2)[0] != float32(id) {
							t.Fatalf("%s batch %d: feature row %d is not node %d's", c.name, b, i, id)
						}
					}
					for _, d := range v.Dst {
						if d >= int64(v.NumExact) {
							t.Fatalf("%s batch %d: an edge into the halo", c.name, b)
						}
					}
				}
				// The batch description is the exact nodes only.
				bs, err := a.Batches()
				if err != nil || !slices.Equal(bs.Nodes, c.nodes) || !slices.Equal(bs.Out, c.out) {
					t.Fatalf("%s: Batches() = %v, %v", c.name, bs, err)
				}
				a.Close()
			}
		}
	}
}

// TestHaloArenaWorkersAgree builds the same halo arena with 1 and 4 workers.
func TestHaloArenaWorkersAgree(t *testing.T) {
	f := newArenaFixture(t, 9, 300, 1200, 20)
	hg := f.halo(t, graph.NormSym, true)
	var mems [][]byte
	for _, w := range []int{1, 4} {
		a := f.arena(t, ArenaOptions{Halo: hg, Labels: f.labels, Workers: w})
		mems = append(mems, slices.Clone(a.mem))
		a.Close()
	}
	if !slices.Equal(mems[0], mems[1]) {
		t.Fatal("the arena depends on the number of workers")
	}
}

func TestHaloArenaSaveLoad(t *testing.T) {
	f := newArenaFixture(t, 4, 120, 500, 6)
	a := f.arena(t, ArenaOptions{Halo: f.halo(t, graph.NormRow, false), Labels: f.labels,
		X: unsafe.Pointer(&f.x[0]), RowBytes: int64(4 * f.width), DType: DTypeFloat32, Params: `{"halo":"rw"}`})
	defer a.Close()
	b, _ := saveAndOpen(t, a, "halo.arena")
	if !slices.Equal(a.mem, b.mem) || !b.HasHalo() || b.Params() != `{"halo":"rw"}` {
		t.Fatal("the loaded halo arena differs")
	}
	for i := range a.NumBatches() {
		if a.Batch(i).NumExact != b.Batch(i).NumExact {
			t.Fatalf("batch %d: NumExact differs", i)
		}
	}
}

// TestHaloArenaRejectsDamage corrupts the halo-specific parts of a saved
// halo arena (unverified load, so only the index checks stand guard).
func TestHaloArenaRejectsDamage(t *testing.T) {
	f := newArenaFixture(t, 6, 50, 200, 3)
	a := f.arena(t, ArenaOptions{Halo: f.halo(t, graph.NormSym, true)})
	defer a.Close()
	good := slices.Clone(a.mem)
	off, _ := a.Offsets()
	v := a.Batch(0)
	if len(v.NID) == v.NumExact || len(v.Src) == 0 {
		t.Fatal("fixture batch 0 needs a halo and edges")
	}
	put := func(b []byte, pos int64, x int64) { *(*int64)(unsafe.Pointer(&b[pos])) = x }
	cases := map[string]func(b []byte){
		"exact above nodes":  func(b []byte) { put(b, off[secTable]+5*8, int64(len(v.NID))+1) },
		"exact below output": func(b []byte) { put(b, off[secTable]+5*8, int64(v.NumOut)-1) },
		"edge into halo":     func(b []byte) { put(b, off[secEdges]+int64(len(v.Src))*8, int64(v.NumExact)) },
		"halo repeats exact": func(b []byte) { put(b, off[secNID]+int64(v.NumExact)*8, v.NID[0]) },
		"halo not ascending": func(b []byte) { put(b, off[secNID]+int64(len(v.NID)-1)*8, -1) },
	}
	for name, damage := range cases {
		b := slices.Clone(good)
		damage(b)
		if d, err := DecodeArena(b, false); !errors.Is(err, ErrFormat) {
			if d != nil {
				d.Close()
			}
			t.Fatalf("%s: got %v, want ErrFormat", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if d, err := DecodeArena(good, true); err != nil {
		t.Fatal(err)
	} else {
		d.Close()
	}
}

func TestHaloArenaErrors(t *testing.T) {
	f := newArenaFixture(t, 8, 30, 90, 2)
	hg := f.halo(t, graph.NormSym, false)
	small, err := graph.FromCOO([]int64{0}, []int64{1}, 2, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]ArenaOptions{
		"norm with halo":   {Halo: hg, Norm: graph.NormSym},
		"halo graph size":  {Halo: small},
		"halo bad weights": {Halo: &graph.CSR{NumNodes: hg.NumNodes, Indptr: hg.Indptr, Indices: hg.Indices, Weights: []float32{1}}},
	}
	for name, opt := range cases {
		if a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt); !errors.Is(err, graph.ErrValue) {
			a.Close()
			t.Fatalf("%s: got %v, want ErrValue", name, err)
		}
	}
	if _, err := HaloGraph(nil, graph.NormSym, true); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("nil graph: %v", err)
	}
	if _, err := HaloGraph(f.g, graph.Norm(9), true); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("unknown norm: %v", err)
	}
	in := NewHaloInducer(hg)
	if _, _, err := in.Count([]int64{1, 2, 1}); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("repeated id: %v", err)
	}
	if _, _, err := in.Count([]int64{1, 30}); !errors.Is(err, graph.ErrIndex) {
		t.Fatalf("id out of range: %v", err)
	}
	if err := in.Fill([]int64{1}, nil, nil, nil, nil); !errors.Is(err, graph.ErrValue) && hg.Degree(1) > 0 {
		t.Fatalf("short buffers: %v", err)
	}
	// The inducer is clean after the errors: the same set counts the same.
	h1, m1, _ := in.Count([]int64{3, 4})
	h2, m2, _ := NewHaloInducer(hg).Count([]int64{3, 4})
	if h1 != h2 || m1 != m2 {
		t.Fatal("an error left the inducer dirty")
	}
}

func BenchmarkHaloArena(b *testing.B) {
	f := newArenaFixture(b, 1, 20000, 100000, 64)
	for _, halo := range []*graph.CSR{nil, f.halo(b, graph.NormSym, true)} {
		name := "induced"
		opt := ArenaOptions{Norm: graph.NormSym}
		if halo != nil {
			name, opt = "halo", ArenaOptions{Halo: halo}
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				a := f.arena(b, opt)
				b.ReportMetric(float64(a.Size()), "bytes")
				a.Close()
			}
		})
	}
}

// TestHaloArenaMemoryLimit: the halo's rows and edges count in the size
// checked before allocating (a limit between the two sizes refuses only
// the halo arena).
func TestHaloArenaMemoryLimit(t *testing.T) {
	f := newArenaFixture(t, 12, 400, 1600, 8)
	hg := f.halo(t, graph.NormSym, true)
	x := ArenaOptions{X: unsafe.Pointer(&f.x[0]), RowBytes: int64(4 * f.width), DType: DTypeFloat32}
	sizes := [2]int64{}
	for i, halo := range []*graph.CSR{nil, hg} {
		opt := x
		opt.Halo = halo
		if halo == nil {
			opt.Norm = graph.NormSym
		}
		a := f.arena(t, opt)
		sizes[i] = a.Size()
		a.Close()
	}
	if sizes[1] <= sizes[0] {
		t.Fatalf("halo arena %d bytes, plain %d", sizes[1], sizes[0])
	}
	t.Setenv("IBMB_MEMORY_LIMIT", strconv.FormatInt((sizes[0]+sizes[1])/2, 10))
	opt := x
	opt.Norm = graph.NormSym
	a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt)
	if err != nil {
		t.Fatalf("plain arena under the limit: %v", err)
	}
	a.Close()
	opt = x
	opt.Halo = hg
	if a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, opt); !errors.Is(err, memlimit.ErrMemory) {
		a.Close()
		t.Fatalf("halo arena over the limit: %v, want ErrMemory", err)
	}
}

func TestHaloGraphMemoryLimit(t *testing.T) {
	f := newArenaFixture(t, 12, 400, 1600, 8)
	if _, err := HaloGraph(f.g, graph.NormSym, true); err != nil {
		t.Fatalf("under the machine's memory: %v", err)
	}
	for _, tc := range []struct {
		name  string
		limit string
		ok    bool
	}{
		{"far below", "1K", false},
		{"ample", "1G", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("IBMB_MEMORY_LIMIT", tc.limit)
			_, err := HaloGraph(f.g, graph.NormSym, true)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, memlimit.ErrMemory)) {
				t.Fatalf("limit %s: %v", tc.limit, err)
			}
		})
	}
}
