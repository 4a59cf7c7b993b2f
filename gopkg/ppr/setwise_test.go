package ppr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// TestSetWiseBound checks topic-sensitive vectors against Exact with the
// same uniform teleport, including sets with repeated nodes and isolated
// nodes, and that each set node is in its row.
func TestSetWiseBound(t *testing.T) {
	g := randomSymmetric(t, 11, 400, 1200, 20, true, true)
	sets := [][]int64{
		{0},
		{1, 2},
		{3, 3, 3, 4},
		{395, 396, 0},                  // two isolated nodes and a connected one
		sampleNodes(1, g.NumNodes, 50), // may repeat nodes
		sampleNodes(2, g.NumNodes, 300),
	}
	const alpha = 0.25
	exact := exactParallel(t, g, sets, alpha)
	for _, eps := range []float64{1e-3, 1e-5} {
		res, st, err := SetWiseLists(g, sets, Options{Alpha: alpha, Eps: eps, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		if st.Pushes == 0 || st.EdgePushes == 0 {
			t.Errorf("stats %+v", st)
		}
		for i, s := range sets {
			checkRow(t, res, i, g.NumNodes)
			est := dense(res, i, g.NumNodes)
			checkBound(t, g, fmt.Sprintf("eps %v, set %d", eps, i), est, exact[i], eps)
			for _, v := range s {
				if est[v] == 0 {
					t.Errorf("eps %v, set %d: set node %d missing from its row", eps, i, v)
				}
			}
		}
	}
}

// TestSetWiseDuplicates checks that a node listed twice in a set counts once.
func TestSetWiseDuplicates(t *testing.T) {
	g := randomSymmetric(t, 12, 100, 300, 0, false, true)
	opt := Options{Alpha: 0.25, Eps: 1e-4}
	a, _, err := SetWiseLists(g, [][]int64{{4, 9, 4, 9, 9}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := SetWiseLists(g, [][]int64{{4, 9}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Nodes, b.Nodes) || !slices.Equal(a.Scores, b.Scores) {
		t.Error("repeated set nodes change the vector")
	}
}

// TestSetWiseErrors checks the errors of malformed sets.
func TestSetWiseErrors(t *testing.T) {
	g := randomSymmetric(t, 1, 10, 20, 0, false, true)
	ok := Options{Alpha: 0.25, Eps: 1e-4}
	cases := []struct {
		name  string
		ptr   []int64
		nodes []int64
		opt   Options
		want  error
		msg   string
	}{
		{"no sets", []int64{0}, nil, ok, graph.ErrValue, "no target sets"},
		{"nil pointer", nil, nil, ok, graph.ErrValue, "no target sets"},
		{"bad start", []int64{1, 2}, []int64{0, 1}, ok, graph.ErrValue, "starts at 1"},
		{"bad end", []int64{0, 1}, []int64{0, 1}, ok, graph.ErrValue, "ends at 1"},
		{"decreasing", []int64{0, 2, 1, 3}, []int64{0, 1, 2}, ok, graph.ErrValue, "non-decreasing"},
		{"beyond end", []int64{0, 5, 3}, []int64{0, 1, 2}, ok, graph.ErrValue, "non-decreasing"},
		{"empty set", []int64{0, 1, 1, 2}, []int64{0, 1}, ok, graph.ErrValue, "target set 1 is empty"},
		{"node out of range", []int64{0, 1, 3}, []int64{0, 1, 10}, ok, graph.ErrIndex, "target set 1 has node 10 (at position 1)"},
		{"negative node", []int64{0, 1}, []int64{-3}, ok, graph.ErrIndex, "node -3"},
		{"bad alpha", []int64{0, 1}, []int64{0}, Options{Alpha: 2, Eps: 1e-4}, graph.ErrValue, "alpha"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, _, err := SetWise(g, c.ptr, c.nodes, c.opt)
			if !errors.Is(err, c.want) || res != nil {
				t.Fatalf("error %v, result %v; want an error wrapping %v", err, res, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
	if _, _, err := SetWiseLists(g, [][]int64{{1}, {}}, ok); !errors.Is(err, graph.ErrValue) || !strings.Contains(err.Error(), "set 1 is empty") {
		t.Errorf("SetWiseLists with an empty set: %v", err)
	}
	if _, _, err := SetWiseLists(g, nil, ok); !errors.Is(err, graph.ErrValue) {
		t.Errorf("SetWiseLists without sets: %v", err)
	}
}
