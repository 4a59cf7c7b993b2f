package graph

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// diamond is the graph 0→1, 0→2, 1→3, 2→3, 3→3 with node 4 isolated.
func diamond() *CSR {
	return &CSR{
		NumNodes: 5,
		Indptr:   []int64{0, 2, 3, 4, 5, 5},
		Indices:  []int32{1, 2, 3, 3, 3},
	}
}

func TestCSRAccessors(t *testing.T) {
	g := diamond()
	if got := g.NumEdges(); got != 5 {
		t.Errorf("NumEdges() = %d, want 5", got)
	}
	wantDeg := []int64{2, 1, 1, 1, 0}
	if got := g.Degrees(); !slices.Equal(got, wantDeg) {
		t.Errorf("Degrees() = %v, want %v", got, wantDeg)
	}
	for u, d := range wantDeg {
		if got := g.Degree(u); got != int(d) {
			t.Errorf("Degree(%d) = %d, want %d", u, got, d)
		}
	}
	rows := [][]int32{{1, 2}, {3}, {3}, {3}, {}}
	for u, want := range rows {
		if got := g.Row(u); !slices.Equal(got, want) {
			t.Errorf("Row(%d) = %v, want %v", u, got, want)
		}
	}
	// Appending to a row must not clobber the next one.
	r := append(g.Row(0), 4)
	_ = r
	if got := g.Row(1); !slices.Equal(got, []int32{3}) {
		t.Errorf("after append to Row(0), Row(1) = %v, want [3]", got)
	}
	if err := g.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		g      *CSR
		target error // nil when valid
		substr string
	}{
		{"valid", diamond(), nil, ""},
		{"empty", &CSR{Indptr: []int64{0}}, nil, ""},
		{"isolated", &CSR{NumNodes: 3, Indptr: []int64{0, 0, 0, 0}}, nil, ""},
		{"weighted", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 2}, Indices: []int32{1, 0}, Weights: []float32{0.5, -2}}, nil, ""},
		{"parallel edges", &CSR{NumNodes: 2, Indptr: []int64{0, 2, 2}, Indices: []int32{1, 1}}, nil, ""},
		{"nil", nil, ErrValue, "nil"},
		{"negative num_nodes", &CSR{NumNodes: -1, Indptr: []int64{0}}, ErrValue, "negative"},
		{"num_nodes overflow", &CSR{NumNodes: math.MaxInt32 + 1}, ErrValue, "int32 index width"},
		{"short indptr", &CSR{NumNodes: 2, Indptr: []int64{0, 0}}, ErrValue, "indptr has length 2"},
		{"nil indptr", &CSR{}, ErrValue, "indptr has length 0"},
		{"indptr start", &CSR{NumNodes: 1, Indptr: []int64{1, 1}, Indices: []int32{0}}, ErrValue, "indptr[0]"},
		{"indptr end", &CSR{NumNodes: 1, Indptr: []int64{0, 1}}, ErrValue, "there are 0 indices"},
		{"decreasing", &CSR{NumNodes: 3, Indptr: []int64{0, 2, 1, 2}, Indices: []int32{0, 1}}, ErrValue, "decreasing at row 1"},
		{"overshoot", &CSR{NumNodes: 3, Indptr: []int64{0, 5, 5, 2}, Indices: []int32{0, 1}}, ErrValue, "indptr[1] is 5"},
		{"column too large", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{2}}, ErrIndex, "indices[0] (row 0) is 2"},
		{"column negative", &CSR{NumNodes: 2, Indptr: []int64{0, 0, 1}, Indices: []int32{-1}}, ErrIndex, "is -1"},
		{"unsorted row", &CSR{NumNodes: 2, Indptr: []int64{0, 2, 2}, Indices: []int32{1, 0}}, ErrValue, "row 0 is not sorted"},
		{"weights length", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{1}, Weights: []float32{}}, ErrValue, "weights has length 0"},
		{"weights NaN", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{1}, Weights: []float32{float32(math.NaN())}}, ErrValue, "not finite"},
		{"weights Inf", &CSR{NumNodes: 2, Indptr: []int64{0, 1, 1}, Indices: []int32{1}, Weights: []float32{float32(math.Inf(-1))}}, ErrValue, "not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.g.Validate()
			if tc.target == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.target) {
				t.Fatalf("Validate() = %v, want an error wrapping %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("Validate() = %q, want it to mention %q", err, tc.substr)
			}
		})
	}
}
