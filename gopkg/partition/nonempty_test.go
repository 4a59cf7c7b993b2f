package partition

import (
	"fmt"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// checkNonEmpty asserts that every one of the parts holds a node.
func checkNonEmpty(t *testing.T, part []int32, parts int) {
	t.Helper()
	cnt := make([]int, parts)
	for _, p := range part {
		cnt[p]++
	}
	empty := 0
	for _, c := range cnt {
		if c == 0 {
			empty++
		}
	}
	if empty > 0 {
		t.Errorf("%d of %d parts are empty", empty, parts)
	}
}

// TestNoEmptyParts checks the guarantee that no part is empty when
// NumNodes ≥ Parts, on graphs where refinement used to drain parts.
func TestNoEmptyParts(t *testing.T) {
	type tc struct {
		name  string
		g     *graph.CSR
		parts int
	}
	var cases []tc
	ks := []int{64, 128, 256}
	if raceEnabled {
		ks = ks[:2] // the race detector slows this test tenfold
	} else {
		cases = append(cases, tc{"csbm20k", csbmGraph(t, 20000, 16, 10, 0.8, 0), 256})
	}
	for i, k := range ks {
		n := 40 * k
		cases = append(cases, tc{fmt.Sprintf("random%d", k), randomGraph(t, n, 5*n, uint64(10+i)), k})
	}
	cases = append(cases, tc{"random-tight", randomGraph(t, 300, 1500, 3), 256})
	cases = append(cases, tc{"grid-tight", gridGraph(t, 17, 16), 272})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := Options{Parts: c.parts, Seed: 0}
			part, err := Partition(c.g, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, c.g, part, opt)
			checkNonEmpty(t, part, c.parts)
		})
	}
}

// TestNoEmptyPartsWeighted uses very uneven node weights: a few heavy nodes
// and many light ones, including zero-weight nodes.
func TestNoEmptyPartsWeighted(t *testing.T) {
	g := randomGraph(t, 2000, 8000, 5)
	for _, k := range []int{64, 256} {
		w := make([]int64, g.NumNodes)
		for i := range w {
			switch {
			case i%97 == 0:
				w[i] = 200
			case i%5 == 0:
				w[i] = 0
			default:
				w[i] = 1
			}
		}
		opt := Options{Parts: k, NodeWeights: w, Seed: 2}
		part, err := Partition(g, opt)
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, g, part, opt)
		checkNonEmpty(t, part, k)
	}
}
