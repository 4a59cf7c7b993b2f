package schedule

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ibmb-dev/ibmb/gopkg/errs"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// ErrValue is wrapped by every error this package returns for invalid input.
var ErrValue = errs.New(errs.Value, "value error")

// pcgStream separates this package's random streams from other users of the
// same seed.
const pcgStream = 0x9e3779b97f4a7c15

// LabelCounts returns, for each batch, the class counts of its output nodes.
//
// Batches are given in CSR form: batch b's output nodes are
// batchNodes[batchPtr[b]:batchPtr[b+1]], so there are len(batchPtr)-1
// batches. batchPtr must start at 0, be non-decreasing and end at
// len(batchNodes). labels[n] is the class of node n; negative labels mark
// unlabelled nodes and are ignored. The result has one row of numClasses
// counts per batch.
//
// It returns an error wrapping [ErrValue] if numClasses < 1, batchPtr is
// malformed, a node id is outside [0, len(labels)), or a label of an output
// node is >= numClasses (the error names the node and its label). All of
// this is checked before the result is allocated, and the result's size
// (len(batchPtr)-1 rows of numClasses float64) is checked against the
// memory the machine can give: an error wrapping memlimit.ErrMemory names
// it when it cannot.
func LabelCounts(labels []int64, batchPtr []int64, batchNodes []int64, numClasses int) ([][]float64, error) {
	if err := CheckLabels(labels, batchPtr, batchNodes, numClasses); err != nil {
		return nil, err
	}
	nb := len(batchPtr) - 1
	size, ok := memlimit.Bytes(int64(nb), int64(numClasses), 8)
	if !ok {
		size = -1
	}
	if err := memlimit.Check(fmt.Sprintf("label counts of %d batches × %d classes", nb, numClasses), size); err != nil {
		return nil, err
	}
	flat := make([]float64, nb*numClasses)
	counts := make([][]float64, nb)
	for b := range nb {
		row := flat[b*numClasses : (b+1)*numClasses : (b+1)*numClasses]
		for _, n := range batchNodes[batchPtr[b]:batchPtr[b+1]] {
			if y := labels[n]; y >= 0 {
				row[y]++
			}
		}
		counts[b] = row
	}
	return counts, nil
}

// CheckLabels checks the inputs of [LabelCounts] (everything but the
// result's size) without allocating; errors as for LabelCounts.
func CheckLabels(labels []int64, batchPtr []int64, batchNodes []int64, numClasses int) error {
	if numClasses < 1 {
		return fmt.Errorf("%w: numClasses must be >= 1, got %d", ErrValue, numClasses)
	}
	if len(batchPtr) < 1 {
		return fmt.Errorf("%w: batchPtr must have at least one entry", ErrValue)
	}
	if batchPtr[0] != 0 {
		return fmt.Errorf("%w: batchPtr[0] must be 0, got %d", ErrValue, batchPtr[0])
	}
	if last := batchPtr[len(batchPtr)-1]; last != int64(len(batchNodes)) {
		return fmt.Errorf("%w: batchPtr ends at %d, want len(batchNodes) = %d", ErrValue, last, len(batchNodes))
	}
	nb := len(batchPtr) - 1
	for b := range nb {
		if lo, hi := batchPtr[b], batchPtr[b+1]; hi < lo || hi > int64(len(batchNodes)) {
			return fmt.Errorf("%w: batchPtr decreases or runs past the %d nodes at batch %d (%d, %d)", ErrValue, len(batchNodes), b, lo, hi)
		}
	}
	for b := range nb {
		for _, n := range batchNodes[batchPtr[b]:batchPtr[b+1]] {
			if n < 0 || n >= int64(len(labels)) {
				return fmt.Errorf("%w: batch %d: node id %d out of range [0, %d)", ErrValue, b, n, len(labels))
			}
			if y := labels[n]; y >= int64(numClasses) {
				return fmt.Errorf("%w: node %d has label %d >= numClasses %d", ErrValue, n, y, numClasses)
			}
		}
	}
	return nil
}

// DistancesBytes returns the memory Distances allocates for nb batches and
// numClasses classes (the matrix and two nb×numClasses work arrays), or -1
// if it overflows int64.
func DistancesBytes(nb, numClasses int) int64 {
	m, ok1 := memlimit.Bytes(int64(nb), int64(nb), 8)
	w, ok2 := memlimit.Bytes(int64(nb), int64(max(numClasses, 0)), 16)
	if !ok1 || !ok2 || m > math.MaxInt64-w {
		return -1
	}
	return m + w
}

// Distances returns the dense len(counts)×len(counts) row-major matrix of
// symmetric KL divergences between the add-one-smoothed label distributions
// of the batches (see the package documentation). The result is symmetric,
// has a zero diagonal and finite, non-negative entries.
//
// Only the first numClasses entries of each row are used; missing entries
// count as zero, as do negative or non-finite counts. If numClasses < 1 all
// distances are zero.
func Distances(counts [][]float64, numClasses int) []float64 {
	nb := len(counts)
	dist := make([]float64, nb*nb)
	if numClasses < 1 || nb == 0 {
		return dist
	}
	c := numClasses
	q := make([]float64, nb*c)
	lq := make([]float64, nb*c)
	for b, row := range counts {
		qb := q[b*c : (b+1)*c]
		total := float64(c)
		for y := range c {
			v := 0.0
			if y < len(row) && row[y] > 0 && !math.IsInf(row[y], 0) {
				v = row[y]
			}
			qb[y] = v + 1
			total += v
		}
		lb := lq[b*c : (b+1)*c]
		for y := range c {
			qb[y] /= total
			lb[y] = math.Log(qb[y])
		}
	}
	for i := range nb {
		qi, li := q[i*c:(i+1)*c], lq[i*c:(i+1)*c]
		for j := i + 1; j < nb; j++ {
			qj, lj := q[j*c:(j+1)*c], lq[j*c:(j+1)*c]
			s := 0.0
			for y := range c {
				// Each term is >= 0: q and ln q move in the same direction.
				s += (qi[y] - qj[y]) * (li[y] - lj[y])
			}
			dist[i*nb+j] = s
			dist[j*nb+i] = s
		}
	}
	return dist
}

// ValidateDistances reports whether dist is a usable b×b distance matrix:
// b >= 1, len(dist) == b*b and every entry finite and non-negative. The
// returned error wraps [ErrValue].
func ValidateDistances(dist []float64, b int) error {
	if b < 1 {
		return fmt.Errorf("%w: number of batches must be >= 1, got %d", ErrValue, b)
	}
	if len(dist) != b*b {
		return fmt.Errorf("%w: distance matrix has %d entries, want %d*%d = %d", ErrValue, len(dist), b, b, b*b)
	}
	for k, v := range dist {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%w: distance (%d, %d) = %v is not finite and non-negative", ErrValue, k/b, k%b, v)
		}
	}
	return nil
}

// PathSum returns the sum of dist between consecutive batches of order,
// i.e. sum_k dist[order[k]*b+order[k+1]]. It returns NaN if an entry of
// order is outside [0, b) or len(dist) < b*b.
func PathSum(dist []float64, b int, order []int) float64 {
	if b < 0 || len(dist) < b*b {
		return math.NaN()
	}
	s := 0.0
	for k, v := range order {
		if v < 0 || v >= b {
			return math.NaN()
		}
		if k > 0 {
			s += dist[order[k-1]*b+v]
		}
	}
	return s
}

// Random returns a uniformly random permutation of 0..b-1 for the given
// epoch, deterministic in (seed, epoch). It returns nil if b < 1.
func Random(b int, seed uint64, epoch int) []int {
	if b < 1 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, pcgStream^uint64(epoch)))
	return rng.Perm(b)
}
