package bindings

import (
	"fmt"
	"math"
	"slices"

	"github.com/ibmb-dev/ibmb/gopkg/schedule"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// ScheduleDistances writes the nb×nb matrix of symmetric KL divergences
// between the add-one-smoothed output-label distributions of nb batches
// (float64, row-major, at dist). The batches' output nodes come in CSR form
// (outPtr: nb+1 int64, out: numOut int64); labels holds numNodes int64
// labels (negative: unlabelled, ignored) in [0, numClasses).
func ScheduleDistances(outPtr, out uintptr, nb, numOut int, labels uintptr, numNodes, numClasses int, dist uintptr) (err error) {
	defer guard(&err)
	if nb < 0 {
		return argErr("negative number of batches %d", nb)
	}
	var op, o, y []int64
	if err := viewAll(at(&op, outPtr, nb+1), at(&o, out, numOut), at(&y, labels, numNodes)); err != nil {
		return err
	}
	n, err := mulLen("distance matrix", nb, nb)
	if err != nil {
		return err
	}
	d, err := float64s(dist, n)
	if err != nil {
		return err
	}
	// Labels first (a label >= numClasses is a value error naming the node),
	// then the memory of the counts and the distances together.
	if err := schedule.CheckLabels(y, op, o, numClasses); err != nil {
		return err
	}
	need := schedule.DistancesBytes(nb, numClasses)
	if counts, ok := memlimit.Bytes(int64(nb), int64(numClasses), 8); !ok || need < 0 || counts > math.MaxInt64-need {
		need = -1
	} else {
		need += counts
	}
	if err := memlimit.Check(fmt.Sprintf("batch distances of %d batches over %d classes", nb, numClasses), need); err != nil {
		return err
	}
	counts, err := schedule.LabelCounts(y, op, o, numClasses)
	if err != nil {
		return err
	}
	copy(d, schedule.Distances(counts, numClasses))
	return nil
}

// ScheduleOrder writes at out (nb int64) one fixed order of nb batches that
// keeps consecutive batches far apart under the distances at dist (nb×nb
// float64), maximizing the summed distance of consecutive batches.
func ScheduleOrder(dist uintptr, nb, seed int, out uintptr) (err error) {
	defer guard(&err)
	d, err := distances(dist, nb)
	if err != nil {
		return err
	}
	if err := schedule.ValidateDistances(d, nb); err != nil {
		return err
	}
	o, err := int64s(out, nb)
	if err != nil {
		return err
	}
	for i, b := range schedule.Order(d, nb, uint64(seed)) {
		o[i] = int64(b)
	}
	return nil
}

// distances views the nb×nb matrix at dist, after checking that a copy of
// it (Order symmetrizes one, NewSampler keeps one) fits in memory.
func distances(dist uintptr, nb int) ([]float64, error) {
	if nb < 1 || dist == 0 {
		return nil, argErr("need at least one batch and a distance matrix")
	}
	n, err := mulLen("distance matrix", nb, nb)
	if err != nil {
		return nil, err
	}
	if err := memlimit.CheckN(fmt.Sprintf("a copy of the %d×%d distance matrix", nb, nb), int64(n), 8); err != nil {
		return nil, err
	}
	return float64s(dist, n)
}

// ScheduleSampler returns the handle of a sampler that draws each epoch's
// order as a random walk over the nb batches, choosing the next batch with
// probability proportional to its distance (dist: nb×nb float64, copied).
func ScheduleSampler(dist uintptr, nb, seed int) (h int, err error) {
	defer guard(&err)
	d, err := distances(dist, nb)
	if err != nil {
		return 0, err
	}
	s, err := schedule.NewSampler(slices.Clone(d), nb, uint64(seed))
	if err != nil {
		return 0, err
	}
	return put(s), nil
}

// SamplerEpoch writes the next epoch's batch order of sampler h at out (nb
// int64).
func SamplerEpoch(h int, out uintptr, nb int) (err error) {
	defer guard(&err)
	s, err := get[*schedule.Sampler](h)
	if err != nil {
		return err
	}
	ep := s.Epoch()
	if len(ep) != nb {
		return argErr("sampler has %d batches, not %d", len(ep), nb)
	}
	o, err := int64s(out, nb)
	if err != nil {
		return err
	}
	for i, b := range ep {
		o[i] = int64(b)
	}
	return nil
}
