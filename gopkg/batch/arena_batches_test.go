package batch

import (
	"errors"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestArenaBatches checks that an arena gives back the batches it was built
// from, built in memory and after a save and load.
func TestArenaBatches(t *testing.T) {
	for _, tc := range []struct {
		name           string
		seed           uint64
		n, e, nbatches int
	}{
		{"one batch", 1, 10, 20, 1},
		{"small", 2, 40, 120, 5},
		{"many", 3, 300, 1500, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newArenaFixture(t, tc.seed, tc.n, tc.e, tc.nbatches)
			a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, ArenaOptions{Norm: graph.NormSym, Labels: f.labels})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			want := &Batches{OutPtr: f.outPtr, Out: f.out, NodePtr: f.nodePtr, Nodes: f.nodes}
			got, err := a.Batches()
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "in memory", want, got)

			l, _ := saveAndOpen(t, a, "a.ibmb")
			got, err = l.Batches()
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "loaded", want, got)
			// A copy: changing it leaves the arena as it was.
			if len(got.Nodes) > 0 {
				got.Nodes[0] = -1
				again, _ := l.Batches()
				if again.Nodes[0] == -1 {
					t.Fatal("Batches aliases the arena")
				}
			}
		})
	}
}

func TestArenaBatchesClosed(t *testing.T) {
	f := newArenaFixture(t, 4, 20, 40, 3)
	a, err := BuildArena(f.g, f.nodePtr, f.nodes, f.outPtr, f.out, ArenaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := a.Batches(); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("Batches of a closed arena: got %v, want an error wrapping ErrValue", err)
	}
}

// TestArenaBatchesSorted checks that the nodes come back sorted although the
// arena lists outputs first.
func TestArenaBatchesSorted(t *testing.T) {
	g, err := graph.FromCOO([]int64{0, 1, 2, 3}, []int64{1, 2, 3, 0}, 4, graph.Options{Symmetrize: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := BuildArena(g, []int64{0, 3}, []int64{0, 1, 3}, []int64{0, 1}, []int64{3}, ArenaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if v := a.Batch(0); !slices.Equal(v.NID, []int64{3, 0, 1}) {
		t.Fatalf("arena order %v, want outputs first [3 0 1]", v.NID)
	}
	b, err := a.Batches()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Nodes, []int64{0, 1, 3}) || !slices.Equal(b.Out, []int64{3}) {
		t.Fatalf("got nodes %v outputs %v, want [0 1 3] and [3]", b.Nodes, b.Out)
	}
}
