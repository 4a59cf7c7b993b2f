package partition

import "math/bits"

// orderChunk is the number of consecutive node ids that label propagation
// visits together; chunks of a degree bucket are visited in random order.
const orderChunk = 64

// degreeOrder returns the order in which label propagation visits the nodes
// of g: by degree bucket (⌊log2 degree⌋+1, isolated nodes first), so that
// low-degree nodes join clusters before the hubs they hang off decide;
// within a bucket, runs of orderChunk consecutive ids in an order drawn from
// (seed, stream), each run shuffled too.
func degreeOrder(g *wgraph, seed, stream uint64) []int32 {
	n := g.n
	var cnt [66]int
	for u := 0; u < n; u++ {
		cnt[bits.Len64(uint64(g.xadj[u+1]-g.xadj[u]))+1]++
	}
	for b := 1; b < len(cnt); b++ {
		cnt[b] += cnt[b-1]
	}
	start := cnt
	order := make([]int32, n)
	for u := 0; u < n; u++ {
		b := bits.Len64(uint64(g.xadj[u+1] - g.xadj[u]))
		order[cnt[b]] = int32(u)
		cnt[b]++
	}
	rng := newRand(seed, stream)
	var runs []int
	tmp := make([]int32, 0, n)
	for b := 0; b <= 64; b++ {
		lo, hi := start[b], start[b+1]
		if hi-lo <= 1 {
			continue
		}
		runs = runs[:0]
		for s := lo; s < hi; s += orderChunk {
			runs = append(runs, s)
		}
		rng.Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
		tmp = tmp[:0]
		for _, s := range runs {
			run := order[s:min(hi, s+orderChunk)]
			k := len(tmp)
			tmp = append(tmp, run...)
			r := tmp[k:]
			rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		}
		copy(order[lo:hi], tmp)
	}
	return order
}

// mix is a 64-bit finaliser (SplitMix64's), used for deterministic
// tie-breaking that does not depend on the visiting goroutine.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
