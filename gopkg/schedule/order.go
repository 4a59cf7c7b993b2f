package schedule

import (
	"math/rand/v2"
)

const (
	// orderStarts is the number of start batches tried by the greedy
	// farthest-neighbour construction.
	orderStarts = 8
	// orderPasses bounds the number of 2-opt improvement passes.
	orderPasses = 25
	// minPassGain stops local search once a pass improves the path sum by
	// less than this fraction.
	minPassGain = 3e-4
	// smallB is the size up to which every start is locally improved.
	smallB = 64
)

// Order returns one fixed permutation of the b batches that keeps
// consecutive batches far apart: it heuristically MAXIMIZES the sum of
// distances between consecutive batches along an open path visiting every
// batch once.
//
// dist is the b×b row-major distance matrix (see [ValidateDistances]); its
// symmetric part is used. The heuristic builds greedy farthest-neighbour
// paths from up to 8 start batches (both ends of the farthest pair, then
// random ones) and improves the best of them (every one when b <= 64) by
// first-improvement local search: at most 25 passes, each an O(b²) sweep of
// 2-opt segment reversals plus one of single-batch relocations, stopping
// early once a pass gains less than 0.03% of the path sum. The result is
// deterministic for a seed.
//
// Order returns nil if dist is invalid (ValidateDistances reports an error).
func Order(dist []float64, b int, seed uint64) []int {
	if ValidateDistances(dist, b) != nil {
		return nil
	}
	if b == 1 {
		return []int{0}
	}
	w := symmetric(dist, b)
	rng := rand.New(rand.NewPCG(seed, pcgStream))

	// Start batches: both ends of the farthest pair, then random ones.
	fi, fj, best := 0, 1, -1.0
	for i := range b {
		row := w[i*b : (i+1)*b]
		for j := i + 1; j < b; j++ {
			if row[j] > best {
				best, fi, fj = row[j], i, j
			}
		}
	}
	nStarts := min(b, orderStarts)
	starts := []int{fi, fj}
	seen := map[int]bool{fi: true, fj: true}
	if nStarts == b {
		for s := range b {
			if !seen[s] {
				starts = append(starts, s)
			}
		}
	} else {
		for len(starts) < nStarts {
			s := rng.IntN(b)
			if !seen[s] {
				seen[s] = true
				starts = append(starts, s)
			}
		}
	}

	var bestPath []int
	bestSum := -1.0
	path := make([]int, b)
	rest := make([]int, b)
	// Small instances: improve every start; large ones: only the best greedy path.
	improveAll := b <= smallB
	for _, s := range starts {
		sum := greedyFarthest(w, b, s, path, rest)
		if improveAll {
			sum = localSearch(w, b, path, orderPasses)
		}
		if sum > bestSum {
			bestSum = sum
			bestPath = append(bestPath[:0], path...)
		}
	}
	if !improveAll {
		localSearch(w, b, bestPath, orderPasses)
	}
	return bestPath
}

// symmetric returns dist itself if it is symmetric, else a copy holding
// (dist[i,j]+dist[j,i])/2.
func symmetric(dist []float64, b int) []float64 {
	for i := range b {
		for j := i + 1; j < b; j++ {
			if dist[i*b+j] != dist[j*b+i] {
				w := make([]float64, b*b)
				for i := range b {
					for j := range b {
						w[i*b+j] = (dist[i*b+j] + dist[j*b+i]) / 2
					}
				}
				return w
			}
		}
	}
	return dist
}

// greedyFarthest fills path with a greedy farthest-neighbour path from start
// and returns its distance sum. rest is scratch space of length b.
func greedyFarthest(w []float64, b, start int, path, rest []int) float64 {
	for k := range rest {
		rest[k] = k
	}
	rest[start], rest[b-1] = rest[b-1], rest[start]
	rest = rest[:b-1]
	path[0] = start
	cur, sum := start, 0.0
	for k := 1; k < b; k++ {
		row := w[cur*b : (cur+1)*b]
		bi, bv := 0, -1.0
		for idx, v := range rest {
			if d := row[v]; d > bv {
				bi, bv = idx, d
			}
		}
		cur = rest[bi]
		rest[bi] = rest[len(rest)-1]
		rest = rest[:len(rest)-1]
		path[k] = cur
		sum += bv
	}
	return sum
}

// localSearch improves the open path p (maximizing its distance sum) with
// at most maxPasses passes, each one sweep of 2-opt segment reversals
// followed by one sweep of single-batch relocations (both O(b²) to scan),
// stopping early when a pass improves the sum by less than minPassGain
// (relative). It returns the final
// path sum.
func localSearch(w []float64, b int, p []int, maxPasses int) float64 {
	n := len(p)
	if n < 3 {
		return PathSum(w, b, p)
	}
	// e[k] = w(p[k], p[k+1]).
	e := make([]float64, n-1)
	for k := range e {
		e[k] = w[p[k]*b+p[k+1]]
	}
	sum := func() float64 {
		s := 0.0
		for _, v := range e {
			s += v
		}
		return s
	}
	cur := sum()
	for range maxPasses {
		a := twoOptPass(w, b, p, e)
		r := relocatePass(w, b, p, e)
		prev := cur
		cur = sum()
		if (!a && !r) || cur-prev <= minPassGain*cur {
			break
		}
	}
	return cur
}

// better reports whether replacing weight oldW by newW is a strict
// improvement beyond floating-point noise.
func better(oldW, newW float64) bool {
	return newW > oldW && newW-oldW > 1e-12*(oldW+newW)
}

// twoOptPass makes one first-improvement sweep of segment reversals.
// Reversing p[i..j] replaces edges (p[i-1],p[i]) and (p[j],p[j+1]) by
// (p[i-1],p[j]) and (p[i],p[j+1]); a missing neighbour at a path end
// contributes nothing. e holds the edge weights and is kept up to date.
func twoOptPass(w []float64, b int, p []int, e []float64) bool {
	n := len(p)
	improved := false
	for i := 0; i < n-1; i++ {
		var rowPrev []float64 // distances from p[i-1]; nil at the front
		if i > 0 {
			rowPrev = w[p[i-1]*b : (p[i-1]+1)*b]
		}
		rowI := w[p[i]*b : (p[i]+1)*b]
		for j := i + 1; j < n; j++ {
			var oldW, newW float64
			if rowPrev != nil {
				oldW += e[i-1]
				newW += rowPrev[p[j]]
			}
			if j < n-1 {
				oldW += e[j]
				newW += rowI[p[j+1]]
			}
			if !better(oldW, newW) {
				continue
			}
			// Reverse p[i..j] and the interior edges e[i..j-1].
			for l, r := i, j; l < r; l, r = l+1, r-1 {
				p[l], p[r] = p[r], p[l]
			}
			for l, r := i, j-1; l < r; l, r = l+1, r-1 {
				e[l], e[r] = e[r], e[l]
			}
			if i > 0 {
				e[i-1] = w[p[i-1]*b+p[i]]
			}
			if j < n-1 {
				e[j] = w[p[j]*b+p[j+1]]
			}
			rowI = w[p[i]*b : (p[i]+1)*b]
			improved = true
		}
	}
	return improved
}

// relocatePass makes one first-improvement sweep of single-batch moves: the
// batch at position k is taken out (its neighbours are joined) and inserted
// into another edge or at either end of the path. e is kept up to date.
func relocatePass(w []float64, b int, p []int, e []float64) bool {
	n := len(p)
	improved := false
	for k := 0; k < n; k++ {
		x := p[k]
		row := w[x*b : (x+1)*b]
		// Gain of taking x out.
		var out float64
		switch {
		case k == 0:
			out = -e[0]
		case k == n-1:
			out = -e[n-2]
		default:
			out = w[p[k-1]*b+p[k+1]] - e[k-1] - e[k]
		}
		// Best insertion: target t means "x goes between p[t] and p[t+1]" for
		// 0 <= t < n-1; t = -1 is the front and t = n-1 the back.
		bestT, bestGain := k, 0.0
		if k != 0 {
			if g := out + row[p[0]]; better(0, g) && g > bestGain {
				bestT, bestGain = -1, g
			}
		}
		if k != n-1 {
			if g := out + row[p[n-1]]; better(0, g) && g > bestGain {
				bestT, bestGain = n-1, g
			}
		}
		for t := 0; t < n-1; t++ {
			if t == k-1 || t == k {
				continue // edges touching x
			}
			if g := out + row[p[t]] + row[p[t+1]] - e[t]; better(0, g) && g > bestGain {
				bestT, bestGain = t, g
			}
		}
		if bestT == k {
			continue
		}
		// Move x: to index dst in the final path.
		var lo, hi int
		if bestT < k { // insert after position bestT (front when -1)
			dst := bestT + 1
			copy(p[dst+1:k+1], p[dst:k])
			p[dst] = x
			lo, hi = dst, k
		} else { // insert before position bestT+1, which shifts left
			dst := bestT
			copy(p[k:dst], p[k+1:dst+1])
			p[dst] = x
			lo, hi = k, dst
		}
		for t := max(lo-1, 0); t <= hi && t < n-1; t++ {
			e[t] = w[p[t]*b+p[t+1]]
		}
		improved = true
	}
	return improved
}
