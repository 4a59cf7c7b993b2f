package schedule

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func isPerm(p []int, b int) bool {
	if len(p) != b {
		return false
	}
	seen := make([]bool, b)
	for _, v := range p {
		if v < 0 || v >= b || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

// randomInstance builds a distance matrix from random label counts, the way
// it is built in practice.
func randomInstance(rng *rand.Rand, b, c int) []float64 {
	counts := make([][]float64, b)
	for i := range counts {
		counts[i] = make([]float64, c)
		for y := range c {
			counts[i][y] = float64(rng.IntN(20))
		}
	}
	return Distances(counts, c)
}

// randomMatrix builds a symmetric matrix with uniform random entries.
func randomMatrix(rng *rand.Rand, b int) []float64 {
	d := make([]float64, b*b)
	for i := range b {
		for j := i + 1; j < b; j++ {
			v := rng.Float64()
			d[i*b+j], d[j*b+i] = v, v
		}
	}
	return d
}

func TestLabelCounts(t *testing.T) {
	labels := []int64{0, 1, 1, -1, 2, 0}
	tests := []struct {
		name  string
		ptr   []int64
		nodes []int64
		c     int
		want  [][]float64
	}{
		// batch 0 = nodes {0,1,2}: labels 0,1,1 -> [1,2,0];
		// batch 1 = nodes {3,4,5,0}: labels -1(skip),2,0,0 -> [2,0,1].
		{"two batches", []int64{0, 3, 7}, []int64{0, 1, 2, 3, 4, 5, 0}, 3, [][]float64{{1, 2, 0}, {2, 0, 1}}},
		// an empty batch and an all-unlabelled batch both give zero counts.
		{"empty and unlabelled", []int64{0, 0, 1, 2}, []int64{3, 2}, 3, [][]float64{{0, 0, 0}, {0, 0, 0}, {0, 1, 0}}},
		{"no batches", []int64{0}, nil, 2, [][]float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LabelCounts(labels, tc.ptr, tc.nodes, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d batches, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !slices.Equal(got[i], tc.want[i]) {
					t.Errorf("batch %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLabelCountsErrors(t *testing.T) {
	labels := []int64{0, 1, 5}
	tests := []struct {
		name  string
		ptr   []int64
		nodes []int64
		c     int
	}{
		{"numClasses zero", []int64{0, 1}, []int64{0}, 0},
		{"empty ptr", nil, nil, 2},
		{"ptr not starting at 0", []int64{1, 1}, []int64{0}, 2},
		{"ptr end mismatch", []int64{0, 1}, []int64{0, 1}, 2},
		{"ptr decreasing", []int64{0, 2, 1, 2}, []int64{0, 1}, 2},
		{"node id negative", []int64{0, 1}, []int64{-1}, 2},
		{"node id too large", []int64{0, 1}, []int64{3}, 2},
		{"label too large", []int64{0, 1}, []int64{2}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LabelCounts(labels, tc.ptr, tc.nodes, tc.c)
			if !errors.Is(err, ErrValue) {
				t.Fatalf("got %v, want ErrValue", err)
			}
		})
	}
}

func TestDistancesHand(t *testing.T) {
	tests := []struct {
		name   string
		counts [][]float64
		c      int
		want   float64 // d(0,1)
	}{
		// q0 = (2+1, 0+1)/4 = (3/4, 1/4), q1 = (1/4, 3/4).
		// d = (3/4-1/4)(ln3/4 - ln1/4) + (1/4-3/4)(ln1/4 - ln3/4) = ln3/2 + ln3/2 = ln 3.
		{"opposite", [][]float64{{2, 0}, {0, 2}}, 2, math.Log(3)},
		// q0 = (2/3, 1/3), q1 = (1/2, 1/2).
		// d = (1/6) ln(4/3) + (-1/6) ln(2/3) = (1/6) ln 2.
		{"one vs empty", [][]float64{{1, 0}, {0, 0}}, 2, math.Log(2) / 6},
		// identical distributions: d = 0.
		{"equal", [][]float64{{3, 1, 0}, {3, 1, 0}}, 3, 0},
		// q0 = (1,1,1)/3, q1 = (4,1,1)/6 = (2/3,1/6,1/6).
		// d = (1/3-2/3) ln(1/2) + 2 (1/3-1/6) ln 2 = (1/3) ln 2 + (1/3) ln 2 = (2/3) ln 2.
		{"three classes", [][]float64{{0, 0, 0}, {3, 0, 0}}, 3, 2 * math.Log(2) / 3},
		// short row is zero-padded: {1} with C=2 equals {1,0} -> (1/6) ln 2.
		{"short row", [][]float64{{1}, {0, 0}}, 2, math.Log(2) / 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Distances(tc.counts, tc.c)
			if len(d) != 4 {
				t.Fatalf("len %d", len(d))
			}
			if math.Abs(d[1]-tc.want) > 1e-12 || d[2] != d[1] || d[0] != 0 || d[3] != 0 {
				t.Fatalf("got %v, want off-diagonal %v", d, tc.want)
			}
		})
	}
}

func TestDistancesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ b, c int }{{1, 1}, {5, 2}, {30, 7}, {50, 40}} {
		t.Run(fmt.Sprintf("b%d_c%d", tc.b, tc.c), func(t *testing.T) {
			d := randomInstance(rng, tc.b, tc.c)
			if len(d) != tc.b*tc.b {
				t.Fatalf("len %d", len(d))
			}
			if err := ValidateDistances(d, tc.b); err != nil {
				t.Fatal(err)
			}
			for i := range tc.b {
				if d[i*tc.b+i] != 0 {
					t.Errorf("diagonal %d = %v", i, d[i*tc.b+i])
				}
				for j := range tc.b {
					if d[i*tc.b+j] != d[j*tc.b+i] || d[i*tc.b+j] < 0 {
						t.Errorf("(%d,%d) = %v, (%d,%d) = %v", i, j, d[i*tc.b+j], j, i, d[j*tc.b+i])
					}
				}
			}
		})
	}
	if d := Distances(nil, 3); len(d) != 0 {
		t.Errorf("nil counts: %v", d)
	}
}

func bruteForceMax(d []float64, b int) float64 {
	p := make([]int, b)
	for i := range p {
		p[i] = i
	}
	best := -1.0
	var rec func(k int)
	rec = func(k int) {
		if k == b {
			best = max(best, PathSum(d, b, p))
			return
		}
		for i := k; i < b; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
	return best
}

func TestOrderVsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	worst := 1.0
	for b := 1; b <= 7; b++ {
		for trial := range 40 {
			var d []float64
			if trial%2 == 0 {
				d = randomInstance(rng, b, 1+rng.IntN(5))
			} else {
				d = randomMatrix(rng, b)
			}
			p := Order(d, b, uint64(trial))
			if !isPerm(p, b) {
				t.Fatalf("b=%d: not a permutation: %v", b, p)
			}
			opt := bruteForceMax(d, b)
			got := PathSum(d, b, p)
			if opt > 0 {
				worst = min(worst, got/opt)
			}
			if got < 0.95*opt-1e-12 {
				t.Errorf("b=%d trial %d: path sum %v < 95%% of optimum %v", b, trial, got, opt)
			}
		}
	}
	t.Logf("worst ratio to brute-force optimum (b<=7): %.4f", worst)
}

func TestOrderVsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		b       int
		uniform bool
	}{{10, false}, {50, false}, {200, false}, {50, true}, {300, true}} {
		t.Run(fmt.Sprintf("b%d_uniform%v", tc.b, tc.uniform), func(t *testing.T) {
			var d []float64
			if tc.uniform {
				d = randomMatrix(rng, tc.b)
			} else {
				d = randomInstance(rng, tc.b, 10)
			}
			p := Order(d, tc.b, 7)
			if !isPerm(p, tc.b) {
				t.Fatalf("not a permutation")
			}
			got := PathSum(d, tc.b, p)
			ident := make([]int, tc.b)
			for i := range ident {
				ident[i] = i
			}
			if id := PathSum(d, tc.b, ident); got < id {
				t.Errorf("path sum %v < identity %v", got, id)
			}
			bestRand := 0.0
			for e := range 100 {
				bestRand = max(bestRand, PathSum(d, tc.b, Random(tc.b, 11, e)))
			}
			if got < bestRand {
				t.Errorf("path sum %v < best of 100 random %v", got, bestRand)
			}
			t.Logf("Order %.4f, best of 100 random %.4f (ratio %.3f)", got, bestRand, got/bestRand)
			if q := Order(d, tc.b, 7); !slices.Equal(q, p) {
				t.Errorf("not deterministic for a seed")
			}
		})
	}
}

func TestOrderAsymmetric(t *testing.T) {
	// Order uses the symmetric part: (0,1) averages to 5, the other pairs to 1,
	// so batches 0 and 1 must be adjacent.
	d := []float64{
		0, 10, 1,
		0, 0, 1,
		1, 1, 0,
	}
	p := Order(d, 3, 1)
	if !isPerm(p, 3) {
		t.Fatalf("not a permutation: %v", p)
	}
	if got := PathSum(d, 3, p) + PathSum(d, 3, []int{p[2], p[1], p[0]}); got != 12 {
		t.Errorf("order %v: symmetric path sum %v, want 12", p, got/2)
	}
}

func badInputs() []struct {
	name string
	d    []float64
	b    int
} {
	return []struct {
		name string
		d    []float64
		b    int
	}{
		{"b zero", nil, 0},
		{"b negative", []float64{0}, -1},
		{"wrong size", []float64{0, 1, 1}, 2},
		{"NaN", []float64{0, math.NaN(), 1, 0}, 2},
		{"Inf", []float64{0, math.Inf(1), 1, 0}, 2},
		{"negative", []float64{0, -1, -1, 0}, 2},
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range badInputs() {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateDistances(tc.d, tc.b); !errors.Is(err, ErrValue) {
				t.Errorf("ValidateDistances: got %v, want ErrValue", err)
			}
			if s, err := NewSampler(tc.d, tc.b, 1); !errors.Is(err, ErrValue) || s != nil {
				t.Errorf("NewSampler: got %v, %v, want ErrValue", s, err)
			}
			if p := Order(tc.d, tc.b, 1); p != nil {
				t.Errorf("Order: got %v, want nil", p)
			}
		})
	}
	if p := Random(0, 1, 0); p != nil {
		t.Errorf("Random(0): %v", p)
	}
}

func TestRandom(t *testing.T) {
	for _, b := range []int{1, 2, 17} {
		a, a2, c := Random(b, 3, 0), Random(b, 3, 0), Random(b, 3, 1)
		if !isPerm(a, b) || !isPerm(c, b) {
			t.Fatalf("b=%d: not permutations: %v %v", b, a, c)
		}
		if !slices.Equal(a, a2) {
			t.Errorf("b=%d: not deterministic", b)
		}
		if b == 17 && slices.Equal(a, c) {
			t.Errorf("epochs 0 and 1 gave the same permutation")
		}
	}
}

func TestSamplerPermutationsAndDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, tc := range []struct {
		name string
		b    int
		d    []float64
	}{
		{"single", 1, []float64{0}},
		{"all zero", 6, make([]float64, 36)},
		{"random", 40, randomInstance(rng, 40, 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s1, err := NewSampler(tc.d, tc.b, 42)
			if err != nil {
				t.Fatal(err)
			}
			s2, _ := NewSampler(tc.d, tc.b, 42)
			s3, _ := NewSampler(tc.d, tc.b, 43)
			differ := false
			for range 20 {
				e1, e2, e3 := s1.Epoch(), s2.Epoch(), s3.Epoch()
				if !isPerm(e1, tc.b) || !isPerm(e3, tc.b) {
					t.Fatalf("not a permutation: %v", e1)
				}
				if !slices.Equal(e1, e2) {
					t.Fatalf("same seed gave %v and %v", e1, e2)
				}
				differ = differ || !slices.Equal(e1, e3)
			}
			if tc.b > 5 && !differ {
				t.Errorf("seeds 42 and 43 gave identical epochs")
			}
		})
	}
}

func TestSamplerPrefersFar(t *testing.T) {
	// b = 5, all distances 1 except the far pair (0, 1) at 20. When the walk
	// is at 0 with all others unvisited, 1 is drawn with probability
	// 20/(20+1+1+1) ≈ 0.87 instead of 1/4 under a uniform choice.
	const b = 5
	d := make([]float64, b*b)
	for i := range b {
		for j := range b {
			if i != j {
				d[i*b+j] = 1
			}
		}
	}
	d[0*b+1], d[1*b+0] = 20, 20
	s, err := NewSampler(d, b, 7)
	if err != nil {
		t.Fatal(err)
	}
	var starts0, follows int
	for range 4000 {
		e := s.Epoch()
		if e[0] == 0 {
			starts0++
			if e[1] == 1 {
				follows++
			}
		}
	}
	frac := float64(follows) / float64(starts0)
	t.Logf("after starting at 0, far batch 1 followed in %d/%d = %.3f (uniform 0.25, expected 0.870)", follows, starts0, frac)
	if starts0 < 500 || frac < 0.75 {
		t.Errorf("far batch followed in %.3f of %d epochs starting at 0, want ≈ 0.87", frac, starts0)
	}
}

func benchmarkOrder(bm *testing.B, b int) {
	rng := rand.New(rand.NewPCG(10, uint64(b)))
	d := randomInstance(rng, b, 40)
	bm.ResetTimer()
	var p []int
	for bm.Loop() {
		p = Order(d, b, 1)
	}
	bm.ReportMetric(PathSum(d, b, p)/float64(b-1), "mean-edge")
}

func BenchmarkOrder1000(bm *testing.B) { benchmarkOrder(bm, 1000) }
func BenchmarkOrder4000(bm *testing.B) { benchmarkOrder(bm, 4000) }
