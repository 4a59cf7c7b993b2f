package bindings

import (
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/schedule"
)

// ScheduleDistances writes the nb×nb matrix of symmetric KL divergences
// between the add-one-smoothed output-label distributions of nb batches
// (float64, row-major, at dist). The batches' output nodes come in CSR form
// (outPtr: nb+1 int64, out: numOut int64); labels holds numNodes int64
// labels (negative: unlabelled, ignored) in [0, numClasses).
func ScheduleDistances(outPtr, out uintptr, nb, numOut int, labels uintptr, numNodes, numClasses int, dist uintptr) (err error) {
	defer guard(&err)
	op, err := int64s(outPtr, nb+1)
	if err != nil {
		return err
	}
	o, err := int64s(out, numOut)
	if err != nil {
		return err
	}
	y, err := int64s(labels, numNodes)
	if err != nil {
		return err
	}
	counts, err := schedule.LabelCounts(y, op, o, numClasses)
	if err != nil {
		return err
	}
	if nb > 0 && dist == 0 {
		return argErr("distance buffer is null")
	}
	copy(unsafe.Slice((*float64)(ptr(dist)), nb*nb), schedule.Distances(counts, numClasses))
	return nil
}

// ScheduleOrder writes at out (nb int64) one fixed order of nb batches that
// keeps consecutive batches far apart under the distances at dist (nb×nb
// float64), maximizing the summed distance of consecutive batches.
func ScheduleOrder(dist uintptr, nb, seed int, out uintptr) (err error) {
	defer guard(&err)
	if nb < 1 || dist == 0 {
		return argErr("need at least one batch and a distance matrix")
	}
	d := unsafe.Slice((*float64)(ptr(dist)), nb*nb)
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

// ScheduleSampler returns the handle of a sampler that draws each epoch's
// order as a random walk over the nb batches, choosing the next batch with
// probability proportional to its distance (dist: nb×nb float64, copied).
func ScheduleSampler(dist uintptr, nb, seed int) (h int, err error) {
	defer guard(&err)
	if nb < 1 || dist == 0 {
		return 0, argErr("need at least one batch and a distance matrix")
	}
	d := append([]float64(nil), unsafe.Slice((*float64)(ptr(dist)), nb*nb)...)
	s, err := schedule.NewSampler(d, nb, uint64(seed))
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
