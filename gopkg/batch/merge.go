package batch

import "cmp"

// pair is the affinity between the outputs with indices A < B.
type pair struct {
	A, B  int32
	Score float64
}

// affinityPairs returns, for the distinct outputs 0 … n-1 whose top-k rows
// are given by row(i), one pair per unordered pair {i, j} in which one
// appears in the other's row, with affinity score_i(j) + score_j(i) (a
// missing direction counts as 0). pos maps a node id to its output index
// or -1. The pairs come sorted by descending affinity, ties by (A, B).
// The sorts run on workers goroutines; once stop (nil: never) is closed,
// affinityPairs returns within about a millisecond with ok == false.
func affinityPairs(n int, row func(i int) ([]int32, []float32), pos []int32, workers int, stop <-chan struct{}) (_ []pair, ok bool) {
	var pairs []pair
	for i := range n {
		if i%1024 == 0 && isDone(stop) {
			return nil, false
		}
		nodes, scores := row(i)
		for k, v := range nodes {
			j := pos[v]
			if j < 0 || int(j) == i {
				continue
			}
			a, b := int32(i), j
			if a > b {
				a, b = b, a
			}
			pairs = append(pairs, pair{a, b, float64(scores[k])})
		}
	}
	// Combine the (at most two) entries of each unordered pair. Summing
	// two float64 values is commutative, so the result does not depend on
	// which direction comes first, nor does the order in which a sort
	// leaves the two.
	if !sortStop(pairs, func(x, y pair) int {
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	}, workers, stop) {
		return nil, false
	}
	m := 0
	for _, p := range pairs {
		if m > 0 && pairs[m-1].A == p.A && pairs[m-1].B == p.B {
			pairs[m-1].Score += p.Score
			continue
		}
		pairs[m] = p
		m++
	}
	pairs = pairs[:m]
	// A total order on distinct (A, B): any sort gives the same result.
	if !sortStop(pairs, func(x, y pair) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	}, workers, stop) {
		return nil, false
	}
	return pairs, true
}

// unionFind is a disjoint-set forest over 0 … n-1 whose root is always the
// smallest element of its set, with set sizes at the roots.
type unionFind struct {
	parent []int32
	size   []int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.size[i] = 1
	}
	return u
}

// find returns the root of x, halving the path on the way.
func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// union merges the sets with roots a ≠ b and returns the new root, the
// smaller of the two.
func (u *unionFind) union(a, b int32) int32 {
	if a > b {
		a, b = b, a
	}
	u.parent[b] = a
	u.size[a] += u.size[b]
	return a
}

// mergeGreedy merges clusters along the pairs in order, merging two
// clusters only when the merged size stays within maxSize. It reports false
// (having merged along a prefix of the pairs) once stop is closed.
func (u *unionFind) mergeGreedy(pairs []pair, maxSize int, stop <-chan struct{}) bool {
	for i, p := range pairs {
		if i%checkEvery == 0 && isDone(stop) {
			return false
		}
		a, b := u.find(p.A), u.find(p.B)
		if a != b && int(u.size[a])+int(u.size[b]) <= maxSize {
			u.union(a, b)
		}
	}
	return true
}

// cluster is a heap entry: a set of the union-find by size and root.
type cluster struct{ size, root int32 }

func clusterLess(x, y cluster) bool {
	return x.size < y.size || (x.size == y.size && x.root < y.root)
}

// mergeSmallest repeatedly merges the two smallest clusters (ties by
// smallest member) while their total size is at most maxSize, as the
// IBMB post-processing does; it stops at the first pair that does not fit.
// It reports false, leaving the merges half done, once stop is closed.
func (u *unionFind) mergeSmallest(maxSize int, stop <-chan struct{}) bool {
	var h []cluster
	for i := range u.parent {
		if u.parent[i] == int32(i) {
			h = append(h, cluster{u.size[i], int32(i)})
		}
	}
	// The roots come in ascending order; heapify.
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for i := 0; len(h) > 1; i++ {
		if i%checkEvery == 0 && isDone(stop) {
			return false
		}
		x := h[0]
		h[0] = h[len(h)-1]
		h = h[:len(h)-1]
		siftDown(h, 0)
		y := h[0]
		if int(x.size)+int(y.size) > maxSize {
			return true
		}
		r := u.union(x.root, y.root)
		h[0] = cluster{u.size[r], r}
		siftDown(h, 0)
	}
	return true
}

func siftDown(h []cluster, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && clusterLess(h[r], h[l]) {
			m = r
		}
		if !clusterLess(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// groups returns the members of every set, sets ordered by their smallest
// member and members ascending.
func (u *unionFind) groups() [][]int32 {
	n := len(u.parent)
	index := make([]int32, n) // root -> group index
	var groups [][]int32
	for i := range n {
		r := u.find(int32(i))
		if r == int32(i) {
			index[i] = int32(len(groups))
			groups = append(groups, make([]int32, 0, u.size[i]))
		}
		g := index[r]
		groups[g] = append(groups[g], int32(i))
	}
	return groups
}
