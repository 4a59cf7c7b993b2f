package schedule

import (
	"math/rand/v2"
)

// Sampler draws a fresh batch order every epoch by a distance-biased random
// walk: the first batch is uniform, and each next batch is drawn among the
// unvisited ones with probability proportional to its distance from the
// current batch (uniformly if all those distances are zero). Every epoch is
// a permutation of 0..b-1.
//
// A Sampler is not safe for concurrent use.
type Sampler struct {
	dist []float64
	b    int
	rng  *rand.Rand
	rest []int
}

// NewSampler returns a Sampler over the b×b row-major distance matrix dist
// (row i holds the distances from batch i). The sequence of epochs is
// deterministic for a seed. dist is referenced, not copied, and must not be
// modified afterwards. It returns an error wrapping [ErrValue] if b < 1,
// len(dist) != b*b, or an entry is NaN, infinite or negative.
func NewSampler(dist []float64, b int, seed uint64) (*Sampler, error) {
	if err := ValidateDistances(dist, b); err != nil {
		return nil, err
	}
	return &Sampler{
		dist: dist,
		b:    b,
		rng:  rand.New(rand.NewPCG(seed, pcgStream^0x5a5a5a5a)),
		rest: make([]int, b),
	}, nil
}

// Epoch returns the batch order of the next epoch, a permutation of
// 0..b-1. Each call costs O(b²).
func (s *Sampler) Epoch() []int {
	b := s.b
	order := make([]int, 0, b)
	rest := s.rest[:b]
	for k := range rest {
		rest[k] = k
	}
	pick := func(idx int) int {
		v := rest[idx]
		rest[idx] = rest[len(rest)-1]
		rest = rest[:len(rest)-1]
		order = append(order, v)
		return v
	}
	cur := pick(s.rng.IntN(b))
	for len(rest) > 0 {
		row := s.dist[cur*b : (cur+1)*b]
		total := 0.0
		for _, v := range rest {
			total += row[v]
		}
		idx := -1
		if total > 0 {
			u := s.rng.Float64() * total
			acc := 0.0
			for k, v := range rest {
				if row[v] <= 0 {
					continue
				}
				idx = k // last positive entry guards against rounding
				acc += row[v]
				if u < acc {
					break
				}
			}
		}
		if idx < 0 {
			idx = s.rng.IntN(len(rest))
		}
		cur = pick(idx)
	}
	return order
}
