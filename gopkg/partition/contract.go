package partition

// contractChunk is the number of coarse nodes a goroutine builds at a time.
const contractChunk = 1024

// contract builds the graph whose nodes are the clusters of g (cluster
// holds a label, itself a node id, per node): coarse node ids follow the
// order of the labels, a coarse node weighs what its members weigh, and the
// edges between two clusters merge into one edge of their summed weight
// (edges inside a cluster vanish). It returns the coarse graph and the
// coarse node of every node of g. Rows are built in parallel; their content
// and order depend only on g and cluster.
func contract(p *pool, g *wgraph, cluster []int32) (*wgraph, []int32, error) {
	n := g.n
	id := make([]int32, n)
	for _, c := range cluster {
		id[c] = 1
	}
	nc := int32(0)
	for l, m := range id {
		if m != 0 {
			id[l] = nc
			nc++
		} else {
			id[l] = -1
		}
	}
	cmap := make([]int32, n)
	mstart := make([]int32, nc+1)
	for u, c := range cluster {
		cc := id[c]
		cmap[u] = cc
		mstart[cc+1]++
	}
	for c := int32(0); c < nc; c++ {
		mstart[c+1] += mstart[c]
	}
	members := make([]int32, n)
	fill := id // reuse: id is no longer needed
	copy(fill, mstart[:nc])
	for u, c := range cmap {
		members[fill[c]] = int32(u)
		fill[c]++
	}
	if err := p.cancelled(); err != nil {
		return nil, nil, err
	}

	chunks := (int(nc) + contractChunk - 1) / contractChunk
	bufAdj := make([][]int32, chunks)
	bufEw := make([][]float64, chunks)
	xadj := make([]int64, nc+1)
	cvw := make([]int64, nc)
	markers := make([][]int32, p.workers)
	err := p.forChunks(int(nc), contractChunk, func(w, lo, hi int) {
		mk := markers[w]
		est := int64(0)
		for _, u := range members[mstart[lo]:mstart[hi]] {
			est += g.xadj[u+1] - g.xadj[u]
		}
		est = est/2 + 16
		adj := make([]int32, 0, est)
		ew := make([]float64, 0, est)
		var hk []int32 // small table: coarse neighbour id, -1 when free
		var hp []int32 // its position in the row
		for c := lo; c < hi; c++ {
			start := len(adj)
			wsum, deg := int64(0), int64(0)
			for _, u := range members[mstart[c]:mstart[c+1]] {
				deg += g.xadj[u+1] - g.xadj[u]
			}
			if nc > denseNodes && deg <= smallDeg {
				// As gather: a small table instead of the dense markers.
				if hk == nil {
					hk, hp = make([]int32, smallCap), make([]int32, smallCap)
					for i := range hk {
						hk[i] = -1
					}
				}
				bits := 4
				for 1<<bits < 2*deg {
					bits++
				}
				mask := 1<<bits - 1
				for _, u := range members[mstart[c]:mstart[c+1]] {
					wsum += g.vw[u]
					nb, nw := g.adj[g.xadj[u]:g.xadj[u+1]], g.ew[g.xadj[u]:g.xadj[u+1]]
					for i, v := range nb {
						cv := cmap[v]
						if int(cv) == c {
							continue
						}
						h := int(uint32(cv)*0x9e3779b1>>(32-bits)) & mask
						for hk[h] != cv && hk[h] >= 0 {
							h = (h + 1) & mask
						}
						if hk[h] >= 0 {
							ew[hp[h]] += nw[i]
							continue
						}
						hk[h], hp[h] = cv, int32(len(adj))
						adj = append(adj, cv)
						ew = append(ew, nw[i])
					}
				}
				for i := 0; i <= mask; i++ {
					hk[i] = -1
				}
			} else {
				if mk == nil {
					mk = make([]int32, nc)
					for i := range mk {
						mk[i] = -1
					}
					markers[w] = mk
				}
				for _, u := range members[mstart[c]:mstart[c+1]] {
					wsum += g.vw[u]
					nb, nw := g.adj[g.xadj[u]:g.xadj[u+1]], g.rowWeights(int32(u))
					for i, v := range nb {
						cv := cmap[v]
						if int(cv) == c {
							continue
						}
						w := 1.0
						if nw != nil {
							w = nw[i]
						}
						if at := mk[cv]; at >= 0 {
							ew[at] += w
							continue
						}
						mk[cv] = int32(len(adj))
						adj = append(adj, cv)
						ew = append(ew, w)
					}
				}
				for _, v := range adj[start:] {
					mk[v] = -1
				}
			}
			xadj[c+1] = int64(len(adj) - start)
			cvw[c] = wsum
		}
		bufAdj[lo/contractChunk], bufEw[lo/contractChunk] = adj, ew
	})
	if err != nil {
		return nil, nil, err
	}
	for c := int32(0); c < nc; c++ {
		xadj[c+1] += xadj[c]
	}
	m := xadj[nc]
	cg := &wgraph{n: int(nc), xadj: xadj, adj: make([]int32, m), ew: make([]float64, m), vw: cvw, total: g.total}
	err = p.forTasks(chunks, func(_, ci int) {
		at := xadj[ci*contractChunk]
		copy(cg.adj[at:], bufAdj[ci])
		copy(cg.ew[at:], bufEw[ci])
	})
	if err != nil {
		return nil, nil, err
	}
	return cg, cmap, nil
}

// project returns the partition of the fine graph that gives every node
// the part of its coarse node.
func project(p *pool, coarse []int32, cmap []int32) ([]int32, error) {
	fine := make([]int32, len(cmap))
	err := p.forChunks(len(cmap), 1<<14, func(_, lo, hi int) {
		for u := lo; u < hi; u++ {
			fine[u] = coarse[cmap[u]]
		}
	})
	return fine, err
}

// coarsenLevels contracts g level by level while more(cur) holds for the
// coarsest graph cur and there are fewer than 64 levels, clustering level
// lv with cluster(cur, lv); it stops when a contraction shrinks the graph
// by less than the convergence factor (that contraction is dropped). It
// returns the levels, g first, and the map from each level's nodes to the
// next level's.
func coarsenLevels(p *pool, g *wgraph, more func(cur *wgraph) bool,
	cluster func(cur *wgraph, lv int) ([]int32, error)) (levels []*wgraph, cmaps [][]int32, err error) {
	levels = []*wgraph{g}
	for cur := g; more(cur) && len(levels) < 64; {
		cl, err := cluster(cur, len(levels)-1)
		if err != nil {
			return nil, nil, err
		}
		cg, cmap, err := contract(p, cur, cl)
		if err != nil {
			return nil, nil, err
		}
		if float64(cg.n) > (1-convergence)*float64(cur.n) {
			break
		}
		levels = append(levels, cg)
		cmaps = append(cmaps, cmap)
		cur = cg
	}
	return levels, cmaps, nil
}
