package bindings

import (
	"github.com/ibmb-dev/ibmb/gopkg/history"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
	"github.com/ibmb-dev/ibmb/kernels/scatter"
)

// History stores (gopkg/history) and the row scatter (kernels/scatter).
// A store is a handle; Free releases its memory (it has a Close method).

// HistoryNew makes a zero-filled history store of numLayers matrices of
// numNodes rows: layer l has dims[l] elements per row, dims pointing to
// numLayers int64 values. dtype is 1 float32, 2 float16, 3 bfloat16 or 4
// float64. Returns the store's handle.
func HistoryNew(numNodes int, dims uintptr, numLayers int, dtype int) (h int, err error) {
	defer guard(&err)
	if numLayers <= 0 {
		return 0, argErr("numLayers must be positive, got %d", numLayers)
	}
	d, err := int64s(dims, numLayers)
	if err != nil {
		return 0, err
	}
	s, err := history.New(int64(numNodes), append([]int64(nil), d...), history.DType(dtype))
	if err != nil {
		return 0, err
	}
	return put(s), nil
}

func getHistory(h int) (*history.Store, error) { return get[*history.Store](h) }

// historyInt answers one integer property of store h: the common body of
// the getters below.
func historyInt(h int, f func(*history.Store) (int, error)) (v int, err error) {
	defer guard(&err)
	s, err := getHistory(h)
	if err != nil {
		return 0, err
	}
	return f(s)
}

// HistoryNumNodes returns the rows of every layer of store h.
func HistoryNumNodes(h int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) { return int(s.NumNodes()), nil })
}

// HistoryNumLayers returns the number of layers of store h.
func HistoryNumLayers(h int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) { return s.NumLayers(), nil })
}

// HistoryDType returns the element type code of store h (see HistoryNew).
func HistoryDType(h int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) { return int(s.DType()), nil })
}

// HistoryDim returns the row width (elements) of layer l of store h.
func HistoryDim(h, l int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) {
		if l < 0 || l >= s.NumLayers() {
			return 0, argErr("layer %d out of range for a store of %d layers", l, s.NumLayers())
		}
		return int(s.Dim(l)), nil
	})
}

// HistoryBytes returns the memory of all layers of store h.
func HistoryBytes(h int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) { return int(s.Bytes()), nil })
}

// HistoryAddr returns the address of layer l's matrix (for zero-copy
// views), valid until the handle is freed.
func HistoryAddr(h, l int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) {
		a, err := s.Addr(l)
		return int(a), err
	})
}

// HistoryPull writes the rows of layer l at the n int64 node ids at ids to
// out (n rows of the layer's row size). Bad ids: index error, out untouched.
func HistoryPull(h, l int, ids uintptr, n int, out uintptr) (err error) {
	defer guard(&err)
	s, err := getHistory(h)
	if err != nil {
		return err
	}
	return s.PullPtr(l, ptr(ids), int64(n), ptr(out))
}

// HistoryPush writes the n packed rows at rows into layer l at the n
// distinct int64 node ids at ids. Bad or repeated ids: error, store
// untouched.
func HistoryPush(h, l int, rows, ids uintptr, n int) (err error) {
	defer guard(&err)
	s, err := getHistory(h)
	if err != nil {
		return err
	}
	return s.PushPtr(l, ptr(rows), ptr(ids), int64(n))
}

// Scatter writes row i of src (n packed rows of rowBytes bytes) to row
// idx[i] of the host matrix dst of dstRows rows. The n int64 ids at idx
// must be distinct and in range; otherwise nothing is written and an index
// or value error is returned.
func Scatter(dst uintptr, dstRows, rowBytes int, src, idx uintptr, n int) (err error) {
	defer guard(&err)
	return scatter.Rows(ptr(dst), int64(dstRows), int64(rowBytes), ptr(src), ptr(idx), int64(n))
}

// ScatterCUDA is Scatter for device memory on CUDA device dev, queued on
// stream (the id check synchronizes it). Unverified on a real GPU.
func ScatterCUDA(dev int, dst uintptr, dstRows, rowBytes int, src, idx uintptr, n int, stream uintptr) (err error) {
	defer guard(&err)
	return cuda.Scatter(dev, dst, int64(dstRows), int64(rowBytes), src, idx, int64(n), stream)
}
