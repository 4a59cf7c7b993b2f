package ppr

import "slices"

// entry is one candidate of an output row.
type entry struct {
	score float32
	node  int32
}

// before reports whether a comes before b in an output row: higher score
// first, ties broken by the smaller node id. It is a strict total order on
// entries with distinct nodes.
func before(a, b entry) bool {
	return a.score > b.score || (a.score == b.score && a.node < b.node)
}

// compareEntries is before as a three-way comparison for slices.SortFunc.
func compareEntries(a, b entry) int {
	switch {
	case before(a, b):
		return -1
	case before(b, a):
		return 1
	}
	return 0
}

// collect moves the estimate of the last push into ws.cand, one entry per
// node with a positive float32 score, and resets p, the residuals and the
// lists of touched and pushed nodes in O(ws.nt + len(ws.pushed)) time. A
// node listed twice in pushed is reported once, because its p is zeroed at
// its first visit.
func (ws *workspace) collect() {
	p, nd := ws.p, ws.nd
	cand := ws.cand[:0]
	for _, v := range ws.pushed {
		pv := p[v]
		p[v] = 0
		if s := float32(pv); s > 0 {
			cand = append(cand, entry{score: s, node: v})
		}
	}
	for _, v := range ws.touched[:ws.nt] {
		nd[v].r = 0
	}
	ws.nt = 0
	ws.pushed = ws.pushed[:0]
	ws.cand = cand
}

// selectTop reorders c so that it starts with its k first entries in the
// order of before, sorted, and returns that prefix. A k ≤ 0 or k ≥ len(c)
// sorts the whole of c. For 0 < k < len(c) it keeps a bounded heap of the
// best k entries seen, which costs O(len(c)·log k) comparisons at worst and
// about len(c) when, as usual, most candidates lose against the heap's
// worst entry; the heap is then sorted in place.
func selectTop(c []entry, k int) []entry {
	if k <= 0 || k >= len(c) {
		slices.SortFunc(c, compareEntries)
		return c
	}
	// h = c[:k] is a heap whose root h[0] is its worst entry: no child
	// comes after its parent in the order of before.
	h := c[:k]
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for _, e := range c[k:] {
		if before(e, h[0]) {
			h[0] = e
			siftDown(h, 0)
		}
	}
	// Heap sort: move the worst remaining entry to the back each time.
	for end := k - 1; end > 0; end-- {
		h[0], h[end] = h[end], h[0]
		siftDown(h[:end], 0)
	}
	return h
}

// siftDown restores the heap property of h below position i, where the
// parent of j is (j−1)/2 and every parent comes after its children.
func siftDown(h []entry, i int) {
	n := len(h)
	for {
		w := i
		if l := 2*i + 1; l < n && before(h[w], h[l]) {
			w = l
		}
		if rc := 2*i + 2; rc < n && before(h[w], h[rc]) {
			w = rc
		}
		if w == i {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
