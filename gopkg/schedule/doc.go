// Package schedule orders the fixed mini-batches of influence-based
// mini-batching (IBMB) so that consecutive batches differ in their label
// distribution.
//
// The distance between batches i and j is the symmetric Kullback–Leibler
// divergence of their add-one-smoothed output-label distributions: with
// counts c_i[y] over the C classes of batch i's output nodes,
//
//	q_i = (c_i + 1) / (sum(c_i) + C)
//	d(i, j) = KL(q_i || q_j) + KL(q_j || q_i) = sum_y (q_i[y] - q_j[y]) (ln q_i[y] - ln q_j[y])
//
// Training benefits from consecutive batches being far apart, so [Order]
// MAXIMIZES the summed distance of consecutive batches along an open path
// through all batches (the opposite of a minimizing tour).
//
// Invariants:
//   - Distance matrices are dense B×B, row-major (entry (i, j) at i*B+j).
//     [Distances] returns a symmetric matrix with a zero diagonal and
//     non-negative, finite entries.
//   - Matrices accepted by [Order] and [NewSampler] must have length B*B,
//     B >= 1, and finite, non-negative entries; the diagonal is ignored.
//     [Order] uses the symmetric part (d(i,j)+d(j,i))/2 of the matrix.
//   - Every ordering returned ([Order], [Sampler.Epoch], [Random]) is a
//     permutation of 0..B-1: each batch appears exactly once.
//   - All randomness comes from the seed passed in, so results are
//     deterministic for a given seed (and Go version).
//   - Invalid input is reported with an error wrapping [ErrValue]; functions
//     whose signature has no error return nil on invalid input and document
//     it. Nothing panics on bad input. A result larger than the memory the
//     machine can give (an absurd class count) is an error wrapping
//     memlimit.ErrMemory, from [LabelCounts]; [DistancesBytes] tells
//     callers what [Distances] will allocate.
package schedule
