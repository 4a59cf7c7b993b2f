package partition

import (
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestFromSymmetric checks the fast path for symmetric graphs against the
// general one: same adjacency, every weight exactly half (the general path
// adds both directions), and that asymmetric graphs are recognised.
func TestFromSymmetric(t *testing.T) {
	w3 := []float32{1, 2, 3, 1} // 0→1 weighs 2, 1→0 weighs 3
	tests := []struct {
		name string
		g    *graph.CSR
		sym  bool
	}{
		{"random", randomGraph(t, 500, 3000, 7), true},
		{"grid", gridGraph(t, 12, 9), true},
		{"directed", &graph.CSR{NumNodes: 3, Indptr: []int64{0, 1, 2, 2}, Indices: []int32{1, 2}}, false},
		// 0-1 twice one way, once back: repeats must match too.
		{"repeats", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 2, 3}, Indices: []int32{1, 1, 0}}, false},
		{"self-loop and repeats", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 3, 5}, Indices: []int32{0, 1, 1, 0, 0}}, true},
		{"weights differ", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 2, 4}, Indices: []int32{0, 1, 0, 1}, Weights: w3}, false},
		{"weights equal", &graph.CSR{NumNodes: 2, Indptr: []int64{0, 1, 2}, Indices: []int32{1, 0}, Weights: []float32{2.5, 2.5}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := symmetric(tc.g, stopper{}); got != tc.sym {
				t.Fatalf("symmetric = %v, want %v", got, tc.sym)
			}
			if !tc.sym {
				return
			}
			vw := make([]int64, tc.g.NumNodes)
			for i := range vw {
				vw[i] = 1
			}
			a := fromSymmetric(tc.g, vw, stopper{})
			b, err := fromAny(tc.g, vw, stopper{})
			if err != nil {
				t.Fatal(err)
			}
			if a.n != b.n || len(a.adj) != len(b.adj) || a.total != b.total {
				t.Fatalf("sizes differ: %d/%d nodes, %d/%d entries", a.n, b.n, len(a.adj), len(b.adj))
			}
			for u := 0; u <= a.n; u++ {
				if a.xadj[u] != b.xadj[u] {
					t.Fatalf("xadj[%d] = %d, general path %d", u, a.xadj[u], b.xadj[u])
				}
			}
			// Both keep rows sorted by first occurrence; the general path
			// interleaves the two directions, so compare as maps per row.
			for u := 0; u < a.n; u++ {
				want := map[int32]float64{}
				for p := b.xadj[u]; p < b.xadj[u+1]; p++ {
					want[b.adj[p]] = b.ew[p]
				}
				for p := a.xadj[u]; p < a.xadj[u+1]; p++ {
					if w, ok := want[a.adj[p]]; !ok || 2*a.ew[p] != w {
						t.Fatalf("row %d: neighbour %d weight %v, general path %v (present %v)", u, a.adj[p], a.ew[p], w, ok)
					}
				}
			}
		})
	}
}
