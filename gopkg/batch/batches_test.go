package batch

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

func TestValidate(t *testing.T) {
	good := func() *Batches {
		return &Batches{OutPtr: []int64{0, 2, 3}, Out: []int64{1, 4, 2}, NodePtr: []int64{0, 3, 5}, Nodes: []int64{1, 3, 4, 2, 5}}
	}
	outputs := []int64{4, 1, 2, 2}
	if err := good().Validate(6, outputs); err != nil {
		t.Fatal(err)
	}
	b := good()
	if b.NumBatches() != 2 {
		t.Fatalf("%d batches", b.NumBatches())
	}
	if out, nodes := b.Batch(1); len(out) != 1 || out[0] != 2 || len(nodes) != 2 {
		t.Fatalf("batch 1: %v %v", out, nodes)
	}
	cases := []struct {
		name    string
		mod     func(*Batches)
		n       int
		outputs []int64
		want    error
	}{
		{"output pointer end", func(b *Batches) { b.OutPtr[2] = 4 }, 6, outputs, graph.ErrValue},
		{"node pointer start", func(b *Batches) { b.NodePtr[0] = 1 }, 6, outputs, graph.ErrValue},
		{"pointer lengths", func(b *Batches) { b.NodePtr = []int64{0, 5} }, 6, outputs, graph.ErrValue},
		{"empty pointer", func(b *Batches) { b.OutPtr = nil }, 6, outputs, graph.ErrValue},
		{"node out of range", func(b *Batches) { b.Nodes[4] = 6 }, 6, outputs, graph.ErrIndex},
		{"output list out of range", func(b *Batches) {}, 6, []int64{1, 2, 4, 9}, graph.ErrIndex},
		{"nodes unsorted", func(b *Batches) { b.Nodes[0], b.Nodes[1] = 3, 1 }, 6, outputs, graph.ErrValue},
		{"nodes repeated", func(b *Batches) { b.Nodes[1] = 1 }, 6, outputs, graph.ErrValue},
		{"outputs unsorted", func(b *Batches) { b.Out[0], b.Out[1] = 4, 1 }, 6, outputs, graph.ErrValue},
		{"output missing from nodes", func(b *Batches) { b.Nodes[2] = 5 }, 6, outputs, graph.ErrValue},
		{"output not in nodes", func(b *Batches) { b.Nodes[3] = 0 }, 6, outputs, graph.ErrValue},
		{"extra output", func(b *Batches) {}, 6, []int64{1, 2}, graph.ErrValue},
		{"missing output", func(b *Batches) {}, 6, []int64{1, 2, 4, 5}, graph.ErrValue},
		{"output twice", func(b *Batches) { b.Out[2] = 4; b.Nodes[3] = 4 }, 6, []int64{1, 4}, graph.ErrValue},
		{"empty batch", func(b *Batches) { b.OutPtr[1] = 0; b.Out = []int64{2}; b.OutPtr[2] = 1 }, 6, outputs, graph.ErrValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := good()
			c.mod(b)
			err := b.Validate(c.n, c.outputs)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, c.want)
			}
			t.Log(err)
		})
	}
	var nilB *Batches
	if err := nilB.Validate(3, nil); !errors.Is(err, graph.ErrValue) {
		t.Fatalf("nil batches: %v", err)
	}
}

func TestDistinctSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, m int }{{200, 1000}, {200, 13}, {100000, 5}, {64, 64}, {1, 3}} {
		ids := make([]int64, c.m)
		for i := range ids {
			ids[i] = r.Int64N(int64(c.n))
		}
		want := slices.Compact(slices.Sorted(slices.Values(ids)))
		orig := slices.Clone(ids)
		if got := distinctSorted(ids, c.n); !slices.Equal(got, want) {
			t.Fatalf("n %d: got %v, want %v", c.n, got, want)
		}
		if !slices.Equal(ids, orig) {
			t.Fatal("input modified")
		}
	}
}
