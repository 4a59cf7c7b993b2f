package ppr

// Result holds one sparse PPR vector per target (NodeWise) or target set
// (SetWise) in CSR form: the entries of row i are
//
//	Nodes[Indptr[i]:Indptr[i+1]] and Scores[Indptr[i]:Indptr[i+1]],
//
// sorted by descending score and, among equal scores, by ascending node id.
// Every score is positive and finite, every node id lies in
// [0, g.NumNodes), and a row never repeats a node.
type Result struct {
	// Indptr has one entry more than there are rows; Indptr[0] == 0.
	Indptr []int64
	// Nodes holds the node ids of all rows, row after row.
	Nodes []int32
	// Scores holds the PPR estimates matching Nodes.
	Scores []float32
}

// NumRows returns the number of rows, one per target or target set.
func (r *Result) NumRows() int { return len(r.Indptr) - 1 }

// Row returns the node ids and scores of row i. Both slices alias the
// Result and have their capacity clipped. Row panics if i is not in
// [0, r.NumRows()), like a slice index would.
func (r *Result) Row(i int) (nodes []int32, scores []float32) {
	lo, hi := r.Indptr[i], r.Indptr[i+1]
	return r.Nodes[lo:hi:hi], r.Scores[lo:hi:hi]
}

// Stats counts the work done by one call, for throughput measurements.
type Stats struct {
	// Pushes is the number of node pushes over all vectors.
	Pushes int64
	// EdgePushes is the number of neighbour residual updates over all
	// vectors, the sum of the out-degrees of the pushed nodes.
	EdgePushes int64
}
