package graph

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The small cases below share one multigraph, given out of order with a
// parallel edge and a self-loop:
//
//	edges: 2→0, 0→2, 2→0, 0→1, 1→1    (3 nodes, inferred)
//
// Rows are worked out by hand for each option set:
//
//	plain:      0:{1,2}  1:{1}  2:{0,0}
//	dedup:      0:{1,2}  1:{1}  2:{0}
//	sym:        every u≠v edge also adds its reverse, the loop 1→1 is not
//	            doubled: 0 gets 2 (from 0→2), 2, 2 (reverses of both 2→0),
//	            1 (from 0→1); 1 gets 1 (loop) and 0 (reverse of 0→1); 2 gets
//	            0, 0 (both 2→0) and 0 (reverse of 0→2):
//	            0:{1,2,2,2}  1:{0,1}  2:{0,0,0}
//	sym+dedup:  0:{1,2}  1:{0,1}  2:{0}
//	loops:      0 and 2 lack a loop, 1 keeps its single one:
//	            0:{0,1,2}  1:{1}  2:{0,0,2}
//	all three:  0:{0,1,2}  1:{0,1}  2:{0,2}
var (
	multiSrc = []int64{2, 0, 2, 0, 1}
	multiDst = []int64{0, 2, 0, 1, 1}
)

func TestFromCOOSmall(t *testing.T) {
	tests := []struct {
		name     string
		src, dst []int64
		n        int
		opt      Options
		indptr   []int64
		indices  []int32
	}{
		{"triangle", []int64{0, 1, 2}, []int64{1, 2, 0}, 3, Options{},
			[]int64{0, 1, 2, 3}, []int32{1, 2, 0}},
		{"multi plain", multiSrc, multiDst, -1, Options{},
			[]int64{0, 2, 3, 5}, []int32{1, 2, 1, 0, 0}},
		{"multi dedup", multiSrc, multiDst, -1, Options{DropDuplicates: true},
			[]int64{0, 2, 3, 4}, []int32{1, 2, 1, 0}},
		{"multi sym", multiSrc, multiDst, -1, Options{Symmetrize: true},
			[]int64{0, 4, 6, 9}, []int32{1, 2, 2, 2, 0, 1, 0, 0, 0}},
		{"multi sym dedup", multiSrc, multiDst, -1, Options{Symmetrize: true, DropDuplicates: true},
			[]int64{0, 2, 4, 5}, []int32{1, 2, 0, 1, 0}},
		{"multi loops", multiSrc, multiDst, -1, Options{AddSelfLoops: true},
			[]int64{0, 3, 4, 7}, []int32{0, 1, 2, 1, 0, 0, 2}},
		{"multi all", multiSrc, multiDst, -1, Options{Symmetrize: true, DropDuplicates: true, AddSelfLoops: true},
			[]int64{0, 3, 5, 7}, []int32{0, 1, 2, 0, 1, 0, 2}},
		// Nodes 0, 2 and 4 have no edges; 5 nodes with only 1→3.
		{"isolated", []int64{1}, []int64{3}, 5, Options{},
			[]int64{0, 0, 1, 1, 1, 1}, []int32{3}},
		// Each of the 5 rows gains its loop; row 1 becomes {1,3}.
		{"isolated loops", []int64{1}, []int64{3}, 5, Options{AddSelfLoops: true},
			[]int64{0, 1, 3, 4, 5, 6}, []int32{0, 1, 3, 2, 3, 4}},
		{"isolated sym", []int64{1}, []int64{3}, 5, Options{Symmetrize: true},
			[]int64{0, 0, 1, 1, 2, 2}, []int32{3, 1}},
		{"empty inferred", nil, nil, -1, Options{},
			[]int64{0}, []int32{}},
		{"empty inferred loops", []int64{}, []int64{}, -1, Options{AddSelfLoops: true},
			[]int64{0}, []int32{}},
		{"no edges", nil, nil, 3, Options{Symmetrize: true, DropDuplicates: true},
			[]int64{0, 0, 0, 0}, []int32{}},
		{"no edges loops", nil, nil, 3, Options{AddSelfLoops: true},
			[]int64{0, 1, 2, 3}, []int32{0, 1, 2}},
		// Two existing loops: AddSelfLoops alone adds none, dedup keeps one.
		{"double loop", []int64{0, 0}, []int64{0, 0}, 1, Options{AddSelfLoops: true},
			[]int64{0, 2}, []int32{0, 0}},
		{"double loop dedup", []int64{0, 0}, []int64{0, 0}, 1, Options{AddSelfLoops: true, DropDuplicates: true},
			[]int64{0, 1}, []int32{0}},
		// Only edge 4→0: inferred num_nodes is 5.
		{"inferred gap", []int64{4}, []int64{0}, -1, Options{},
			[]int64{0, 0, 0, 0, 0, 1}, []int32{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, minPar := range []int{parallelMinEdges, 1} {
				for _, workers := range []int{1, 3} {
					opt := tc.opt
					opt.Workers = workers
					g, err := fromCOO(tc.src, tc.dst, tc.n, opt, minPar)
					if err != nil {
						t.Fatalf("workers=%d minPar=%d: %v", workers, minPar, err)
					}
					want := &CSR{NumNodes: len(tc.indptr) - 1, Indptr: tc.indptr, Indices: tc.indices}
					if d := diffCSR(g, want); d != "" {
						t.Fatalf("workers=%d minPar=%d: %s", workers, minPar, d)
					}
					if err := g.Validate(); err != nil {
						t.Fatalf("Validate: %v", err)
					}
					if g.Weights != nil {
						t.Errorf("Weights = %v, want nil", g.Weights)
					}
					if ref := refFromCOO(tc.src, tc.dst, tc.n, tc.opt); diffCSR(ref, want) != "" {
						t.Errorf("reference disagrees with hand result: %s", diffCSR(ref, want))
					}
				}
			}
		})
	}
}

func TestFromCOOErrors(t *testing.T) {
	// 18 edges, valid except that edge 17 points at node 2708 of 2708.
	src18 := make([]int64, 18)
	dst18 := make([]int64, 18)
	for i := range src18 {
		src18[i], dst18[i] = int64(i), int64(i+1)
	}
	dst18[17] = 2708

	// A larger input, invalid at edges 1000 and 90000, for the parallel
	// path: the error must name the first.
	bigSrc, bigDst := randomCOO(1, 100, 100000)
	bigSrc[90000] = -5
	bigDst[1000] = 100

	tests := []struct {
		name     string
		src, dst []int64
		n        int
		opt      Options
		target   error
		msg      string
	}{
		{"length mismatch", []int64{0, 1}, []int64{1}, 2, Options{}, ErrValue,
			"value error: src has 2 entries but dst has 1"},
		{"negative src", []int64{0, -1}, []int64{1, 0}, 2, Options{}, ErrIndex,
			"index error: edge 1 has negative node id -1"},
		{"negative dst", []int64{0, 1}, []int64{1, -3}, 2, Options{}, ErrIndex,
			"index error: edge 1 has negative node id -3"},
		{"negative inferred", []int64{0, 1, 2}, []int64{1, -3, -4}, -1, Options{}, ErrIndex,
			"index error: edge 1 has negative node id -3"},
		{"out of range", src18, dst18, 2708, Options{}, ErrIndex,
			"index error: edge 17 has node id 2708 but num_nodes is 2708"},
		{"zero nodes", []int64{0}, []int64{0}, 0, Options{}, ErrIndex,
			"index error: edge 0 has node id 0 but num_nodes is 0"},
		{"negative workers", []int64{0}, []int64{0}, 1, Options{Workers: -2}, ErrValue,
			"value error: workers must not be negative, got -2"},
		{"num_nodes overflow", nil, nil, 3000000000, Options{}, ErrValue,
			"value error: index overflow: num_nodes 3000000000 exceeds the int32 index width"},
		{"inferred overflow", []int64{math.MaxInt32}, []int64{0}, -1, Options{}, ErrValue,
			"value error: index overflow: inferred num_nodes 2147483648 (largest node id + 1) exceeds the int32 index width"},
		{"first of many", bigSrc, bigDst, 100, Options{Workers: 4}, ErrIndex,
			"index error: edge 1000 has node id 100 but num_nodes is 100"},
		{"first of many inferred", bigSrc, bigDst, -1, Options{Workers: 4}, ErrIndex,
			"index error: edge 90000 has negative node id -5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := FromCOO(tc.src, tc.dst, tc.n, tc.opt)
			if err == nil {
				t.Fatalf("FromCOO succeeded with %d nodes, want error %q", g.NumNodes, tc.msg)
			}
			if g != nil {
				t.Errorf("FromCOO returned a graph alongside error %v", err)
			}
			if !errors.Is(err, tc.target) {
				t.Errorf("error %v does not wrap %v", err, tc.target)
			}
			if err.Error() != tc.msg {
				t.Errorf("error = %q, want %q", err, tc.msg)
			}
		})
	}
}

func TestEdgeTotal(t *testing.T) {
	tests := []struct {
		e, n   int64
		opt    Options
		want   int64
		errMsg string
	}{
		{10, 5, Options{}, 10, ""},
		{10, 5, Options{Symmetrize: true}, 20, ""},
		{10, 5, Options{Symmetrize: true, AddSelfLoops: true}, 25, ""},
		{maxEdges, 0, Options{}, maxEdges, ""},
		{maxEdges + 1, 0, Options{}, 0, "edge count overflow"},
		{maxEdges/2 + 1, 0, Options{Symmetrize: true}, 0, "edge count overflow"},
		{maxEdges - 4, 5, Options{AddSelfLoops: true}, 0, "edge count overflow"},
		{math.MaxInt64, math.MaxInt32, Options{Symmetrize: true, AddSelfLoops: true}, 0, "edge count overflow"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("e=%d,n=%d,%+v", tc.e, tc.n, tc.opt), func(t *testing.T) {
			got, err := edgeTotal(tc.e, tc.n, tc.opt)
			if tc.errMsg == "" {
				if err != nil || got != tc.want {
					t.Fatalf("edgeTotal = %d, %v; want %d, nil", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), tc.errMsg) {
				t.Fatalf("edgeTotal error = %v, want ErrValue mentioning %q", err, tc.errMsg)
			}
		})
	}
}

// allOptions lists the eight combinations of the three boolean options.
func allOptions() []Options {
	var opts []Options
	for m := range 8 {
		opts = append(opts, Options{Symmetrize: m&1 != 0, DropDuplicates: m&2 != 0, AddSelfLoops: m&4 != 0})
	}
	return opts
}

func TestFromCOOMatchesReference(t *testing.T) {
	sizes := []struct{ n, e int }{{1, 5}, {7, 40}, {50, 300}, {1000, 5000}, {40000, 30000}}
	for si, sz := range sizes {
		src, dst := randomCOO(uint64(si), sz.n, sz.e)
		for _, opt := range allOptions() {
			want := refFromCOO(src, dst, sz.n, opt)
			for _, workers := range []int{1, 2, 5} {
				opt.Workers = workers
				name := fmt.Sprintf("n=%d/e=%d/%+v", sz.n, sz.e, opt)
				// minParallel 1 forces the parallel path on these small inputs.
				g, err := fromCOO(src, dst, sz.n, opt, 1)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if d := diffCSR(g, want); d != "" {
					t.Fatalf("%s: %s", name, d)
				}
				if err := g.Validate(); err != nil {
					t.Fatalf("%s: Validate: %v", name, err)
				}
				if opt.Symmetrize && !g.IsSymmetric() {
					t.Fatalf("%s: result of Symmetrize is not symmetric", name)
				}
			}
		}
	}
}

func TestFromCOODeterministicAcrossGOMAXPROCS(t *testing.T) {
	const n, e = 50000, 200000
	src, dst := randomCOO(42, n, e)
	// A hub makes one row far longer than the others.
	for i := 0; i < e; i += 7 {
		src[i] = 123
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, opt := range []Options{{}, {Symmetrize: true, DropDuplicates: true, AddSelfLoops: true}, {Symmetrize: true, AddSelfLoops: true}} {
		var first *CSR
		for _, procs := range []int{1, 4} {
			runtime.GOMAXPROCS(procs)
			g, err := FromCOO(src, dst, -1, opt)
			if err != nil {
				t.Fatalf("GOMAXPROCS=%d %+v: %v", procs, opt, err)
			}
			if err := g.Validate(); err != nil {
				t.Fatalf("GOMAXPROCS=%d %+v: Validate: %v", procs, opt, err)
			}
			if first == nil {
				first = g
				continue
			}
			if d := diffCSR(g, first); d != "" {
				t.Fatalf("%+v: GOMAXPROCS=4 differs from GOMAXPROCS=1: %s", opt, d)
			}
		}
	}
}

// FuzzFromCOO decodes the input bytes into a small edge list (each pair of
// bytes is one edge, as signed 8-bit ids so that negative ids occur) and
// checks that FromCOO either fails with a classified error or matches the
// reference model.
func FuzzFromCOO(f *testing.F) {
	f.Add([]byte{0, 1, 1, 2, 2, 0}, 3, uint8(0))
	f.Add([]byte{2, 0, 0, 2, 2, 0, 0, 1, 1, 1}, -1, uint8(7))
	f.Add([]byte{0, 0xff}, 4, uint8(1))
	f.Add([]byte{9, 9}, 5, uint8(4))
	f.Add([]byte{}, 0, uint8(6))
	f.Add([]byte{1}, 2, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, numNodes int, flags uint8) {
		// Keep the node count small so that the fuzzer cannot ask for
		// huge allocations, but let it probe the limits too.
		if numNodes > 300 && numNodes != 3000000000 {
			numNodes %= 300
		}
		m := len(data) / 2
		if len(data)%2 == 1 {
			m++ // an odd byte makes the lengths mismatch
		}
		src := make([]int64, m)
		dst := make([]int64, len(data)/2)
		for i := range dst {
			src[i] = int64(int8(data[2*i]))
			dst[i] = int64(int8(data[2*i+1]))
		}
		opt := Options{
			Symmetrize:     flags&1 != 0,
			DropDuplicates: flags&2 != 0,
			AddSelfLoops:   flags&4 != 0,
			Workers:        int(flags>>3) % 5,
		}
		g, err := fromCOO(src, dst, numNodes, opt, 2)
		if err != nil {
			if !errors.Is(err, ErrIndex) && !errors.Is(err, ErrValue) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("invalid result: %v", err)
		}
		if d := diffCSR(g, refFromCOO(src, dst, numNodes, opt)); d != "" {
			t.Fatalf("differs from reference: %s", d)
		}
	})
}

// benchCOO caches the random edge lists used by the benchmarks.
var benchCOO = struct {
	sync.Mutex
	m map[[2]int][2][]int64
}{m: map[[2]int][2][]int64{}}

func benchEdges(n, e int) (src, dst []int64) {
	benchCOO.Lock()
	defer benchCOO.Unlock()
	k := [2]int{n, e}
	if c, ok := benchCOO.m[k]; ok {
		return c[0], c[1]
	}
	src, dst = randomCOO(uint64(n)^uint64(e), n, e)
	benchCOO.m[k] = [2][]int64{src, dst}
	return src, dst
}

func BenchmarkFromCOO(b *testing.B) {
	sizes := []struct {
		name string
		n, e int
	}{
		{"n=10k/e=100k", 10_000, 100_000},
		{"n=100k/e=1M", 100_000, 1_000_000},
		{"n=1M/e=10M", 1_000_000, 10_000_000},
	}
	for _, sz := range sizes {
		for _, oc := range []struct {
			name string
			opt  Options
		}{
			{"plain", Options{}},
			{"sym+dedup+loops", Options{Symmetrize: true, DropDuplicates: true, AddSelfLoops: true}},
		} {
			b.Run(sz.name+"/"+oc.name, func(b *testing.B) {
				src, dst := benchEdges(sz.n, sz.e)
				b.SetBytes(int64(16 * sz.e))
				b.ReportAllocs()
				iters := 0
				for b.Loop() {
					if _, err := FromCOO(src, dst, sz.n, oc.opt); err != nil {
						b.Fatal(err)
					}
					iters++
				}
				b.ReportMetric(float64(sz.e)*float64(iters)/b.Elapsed().Seconds()/1e6, "Medges/s")
			})
		}
	}
}
