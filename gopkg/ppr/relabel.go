package ppr

import (
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// Relabelling for cache locality.
//
// On large graphs the push spends its time on cache misses: every
// neighbour update touches the residual of a random node. Renumbering the
// nodes breadth-first from the largest hub (restarting from the next
// unvisited node by descending degree) packs the hubs, which most pushes
// reach, into a small, hot prefix of every per-node array and gives
// neighbours nearby ids; tasks are then taken in the order of their new ids. The renumbered graph keeps
// each row's neighbours in their original order, so the push performs
// exactly the same floating-point operations in the same order: results
// are bit-identical with and without relabelling (ids are mapped back
// before the top-k selection, whose order is total).

// relabelMinNodes and relabelMinTasks decide when relabelling pays: the
// per-node state must be larger than the caches, and enough vectors must
// be computed to amortize the O(E) renumbering.
// bfsOrder numbers the nodes breadth-first from the hubs (neighbours get
// nearby ids) rather than purely by degree.
var bfsOrder = true

const (
	relabelMinNodes = 1 << 17
	relabelMinTasks = 1 << 12
)

// relabeling maps between the original ids (old) and the renumbered ones.
type relabeling struct {
	newOf []int32 // newOf[old]
	oldOf []int32 // oldOf[new]
	g     *graph.CSR
	// taskOrder lists the tasks by the new id of their first teleport
	// node, so that consecutive tasks of a worker push through nearby
	// nodes whose state is still in cache. Results stay in task order.
	taskOrder []int32
}

// orderTasks fills taskOrder for the tasks of t (a counting sort by new id).
func (r *relabeling) orderTasks(t teleports) {
	n, tasks := len(r.newOf), t.len()
	start := make([]int32, n+1)
	for i := range tasks {
		start[r.newOf[t.set(i)[0]]+1]++
	}
	for v := 1; v <= n; v++ {
		start[v] += start[v-1]
	}
	r.taskOrder = make([]int32, tasks)
	for i := range tasks {
		k := r.newOf[t.set(i)[0]]
		r.taskOrder[start[k]] = int32(i)
		start[k]++
	}
}

// relabelByDegree renumbers g's nodes (breadth-first from the hubs when
// bfsOrder is set, else by descending out-degree, ties by ascending id)
// and returns the renumbered graph with its maps. workers
// goroutines share the O(N + E) work. It returns nil, within about a
// millisecond, once done (nil: never) is closed.
func relabelByDegree(g *graph.CSR, workers int, done <-chan struct{}) *relabeling {
	n := g.NumNodes
	indptr, indices := g.Indptr, g.Indices
	maxDeg := int64(0)
	for u := range n {
		maxDeg = max(maxDeg, indptr[u+1]-indptr[u])
	}
	// Counting sort by degree, descending: start[d] is where degree d begins.
	start := make([]int64, maxDeg+2)
	for u := range n {
		start[maxDeg-(indptr[u+1]-indptr[u])+1]++
	}
	for d := int64(1); d < int64(len(start)); d++ {
		start[d] += start[d-1]
	}
	// byDeg lists the nodes by descending degree (ties by ascending id).
	byDeg := make([]int32, n)
	for u := range n {
		k := maxDeg - (indptr[u+1] - indptr[u])
		byDeg[start[k]] = int32(u)
		start[k]++
	}
	r := &relabeling{newOf: make([]int32, n), oldOf: make([]int32, n)}
	if bfsOrder {
		// Breadth-first from the largest hub, restarting at the next
		// unvisited node in degree order: neighbours get nearby ids.
		for i := range r.newOf {
			r.newOf[i] = -1
		}
		next := int32(0)
		for _, s := range byDeg {
			if r.newOf[s] >= 0 {
				continue
			}
			head := next
			r.newOf[s] = next
			r.oldOf[next] = s
			next++
			for head < next {
				if head%relabelCheck == 0 && done != nil && isDone(done) {
					return nil
				}
				u := r.oldOf[head]
				head++
				for _, v := range indices[indptr[u]:indptr[u+1]] {
					if r.newOf[v] < 0 {
						r.newOf[v] = next
						r.oldOf[next] = v
						next++
					}
				}
			}
		}
	} else {
		for i, u := range byDeg {
			r.newOf[u] = int32(i)
			r.oldOf[i] = u
		}
	}
	ng := &graph.CSR{NumNodes: n, Indptr: make([]int64, n+1), Indices: make([]int32, len(indices))}
	for i, u := range r.oldOf {
		ng.Indptr[i+1] = ng.Indptr[i] + indptr[u+1] - indptr[u]
	}
	parallel(workers, func(w int) {
		lo, hi := w*n/workers, (w+1)*n/workers
		for i := lo; i < hi; i++ {
			if i%relabelCheck == 0 && done != nil && isDone(done) {
				return
			}
			u := r.oldOf[i]
			dst := ng.Indices[ng.Indptr[i]:ng.Indptr[i+1]]
			for j, v := range indices[indptr[u]:indptr[u+1]] {
				dst[j] = r.newOf[v]
			}
		}
	})
	if done != nil && isDone(done) {
		return nil
	}
	r.g = ng
	return r
}

// relabelCheck is how many nodes relabelByDegree renumbers between two
// looks at its cancellation channel.
const relabelCheck = 1 << 14

// mapSet writes the renumbered ids of set into buf and returns it.
func (r *relabeling) mapSet(set []int64, buf []int64) []int64 {
	buf = buf[:0]
	for _, s := range set {
		buf = append(buf, int64(r.newOf[s]))
	}
	return buf
}

// restore maps the nodes of the candidate entries back to original ids.
func (r *relabeling) restore(c []entry) {
	for j := range c {
		c[j].node = r.oldOf[c[j].node]
	}
}
