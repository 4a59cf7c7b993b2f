package ppr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectTop compares the bounded-heap selection with a full sort, on
// inputs with many tied scores.
func TestSelectTop(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 5, 16, 17, 100, 1000} {
		for _, levels := range []int{1, 3, 1 << 20} {
			for _, k := range []int{-1, 0, 1, 2, 7, 16, 99, 100, 2000} {
				t.Run(fmt.Sprintf("n=%d,levels=%d,k=%d", n, levels, k), func(t *testing.T) {
					c := make([]entry, n)
					for i, v := range r.Perm(n) {
						c[i] = entry{score: float32(1 + r.IntN(levels)), node: int32(v)}
					}
					want := slices.Clone(c)
					slices.SortFunc(want, compareEntries)
					if k > 0 && k < n {
						want = want[:k]
					}
					got := selectTop(c, k)
					if !slices.Equal(got, want) {
						t.Fatalf("selectTop gives %v, want %v", got, want)
					}
				})
			}
		}
	}
}

// TestBefore checks the output order on a few pairs.
func TestBefore(t *testing.T) {
	cases := []struct {
		a, b entry
		want bool
	}{
		{entry{2, 5}, entry{1, 0}, true},
		{entry{1, 0}, entry{2, 5}, false},
		{entry{1, 3}, entry{1, 4}, true},
		{entry{1, 4}, entry{1, 3}, false},
		{entry{1, 4}, entry{1, 4}, false},
	}
	for _, c := range cases {
		if got := before(c.a, c.b); got != c.want {
			t.Errorf("before(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestCollectDuplicates checks that collect reports a node listed twice in
// pushed once, skips nodes with p̂ = 0, and leaves the workspace clean.
func TestCollectDuplicates(t *testing.T) {
	ws := newWorkspace(&pushGraph{thresh: make([]float64, 4)})
	ws.p[1], ws.p[3] = 0.5, 0.25
	ws.nd[1].r, ws.nd[2].r = negZero, 1e-9
	ws.nt = copy(ws.touched, []int32{1, 3, 2})
	ws.pushed = append(ws.pushed, 1, 3, 1)
	ws.collect()
	want := []entry{{0.5, 1}, {0.25, 3}}
	if !slices.Equal(ws.cand, want) {
		t.Errorf("collect gives %v, want %v", ws.cand, want)
	}
	for v := range 4 {
		if math.Float64bits(ws.p[v]) != 0 || math.Float64bits(ws.nd[v].r) != 0 {
			t.Errorf("node %d not reset: p %v, r %v", v, ws.p[v], ws.nd[v].r)
		}
	}
	if ws.nt != 0 || len(ws.pushed) != 0 {
		t.Errorf("lists not emptied: %d touched, %d pushed", ws.nt, len(ws.pushed))
	}
}
