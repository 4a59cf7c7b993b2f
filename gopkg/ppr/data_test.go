package ppr

import (
	"fmt"
	"testing"
)

// TestRealGraphs checks the push guarantee on the karateclub GitHub and
// Facebook graphs from the shared data folder (skipped when absent), for a
// sample of targets and a few target sets.
func TestRealGraphs(t *testing.T) {
	cases := []struct {
		name       string
		nodes      int
		alpha, eps float64
	}{
		{"github", 37700, 0.25, 2e-4},
		{"facebook", 22470, 0.15, 1e-4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := loadKarateclub(t, c.name)
			if g.NumNodes != c.nodes {
				t.Fatalf("%s has %d nodes, want %d", c.name, g.NumNodes, c.nodes)
			}
			// The dense reference costs about 100 sweeps over the graph per
			// vector, ten times more under the race detector.
			k, extra := 50, [][]int64{sampleNodes(43, g.NumNodes, 20), sampleNodes(44, g.NumNodes, 3)}
			if raceEnabled || testing.Short() {
				k, extra = 2, extra[:1]
			}
			targets := sampleNodes(42, g.NumNodes, k)
			sets := make([][]int64, 0, k+len(extra))
			for _, s := range targets {
				sets = append(sets, []int64{s})
			}
			sets = append(sets, extra...)
			opt := Options{Alpha: c.alpha, Eps: c.eps}
			res, st, err := SetWiseLists(g, sets, opt)
			if err != nil {
				t.Fatal(err)
			}
			// The singleton rows must equal NodeWise's.
			nw, _, err := NodeWise(g, targets, opt)
			if err != nil {
				t.Fatal(err)
			}
			exact := exactParallel(t, g, sets, c.alpha)
			worst := 0.0
			for i := range sets {
				checkRow(t, res, i, g.NumNodes)
				worst = max(worst, checkBound(t, g, fmt.Sprintf("%s set %d", c.name, i), dense(res, i, g.NumNodes), exact[i], c.eps))
				if i < k {
					a, sa := res.Row(i)
					b, sb := nw.Row(i)
					if fmt.Sprint(a, sa) != fmt.Sprint(b, sb) {
						t.Fatalf("row %d: SetWise and NodeWise differ", i)
					}
				}
			}
			t.Logf("%s: %d nodes, %d edges, %d vectors, %d pushes, %d edge pushes, %d entries; largest (p − p̂)/(eps·deg) %.3f",
				c.name, g.NumNodes, g.NumEdges(), len(sets), st.Pushes, st.EdgePushes, len(res.Nodes), worst)
		})
	}
}
