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
	return HistoryNewOn(numNodes, dims, numLayers, dtype, int(history.Host), 0)
}

// maxHistoryLayers bounds the layers of one store (a GNN has tens).
const maxHistoryLayers = 1 << 16

// HistoryNewOn is HistoryNew with the matrices placed in host memory
// (placement 0), page-locked host memory (1) or device memory (2) of CUDA
// device ordinal device. The GPU placements need the CUDA driver at run
// time (else an unavailable error). Unverified on a real GPU.
func HistoryNewOn(numNodes int, dims uintptr, numLayers int, dtype, placement, device int) (h int, err error) {
	defer guard(&err)
	// The layer widths are copied below: bound their count first, so a wild
	// numLayers is an error, not an allocation the runtime dies of.
	if numLayers <= 0 || numLayers > maxHistoryLayers {
		return 0, argErr("numLayers must be in [1, %d], got %d", maxHistoryLayers, numLayers)
	}
	d, err := int64s(dims, numLayers)
	if err != nil {
		return 0, err
	}
	s, err := history.NewWith(int64(numNodes), append([]int64(nil), d...), history.DType(dtype),
		history.Options{Placement: history.Placement(placement), Device: device})
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

// HistoryPlacement returns where store h lives: 0 host, 1 page-locked,
// 2 device.
func HistoryPlacement(h int) (int, error) {
	return historyInt(h, func(s *history.Store) (int, error) { return int(s.Placement()), nil })
}

// HistoryPullDevice is HistoryPull for a device store: ids (n int64) and
// out are device pointers, the gather is queued on stream after an id check
// that synchronizes it. Unverified on a real GPU.
func HistoryPullDevice(h, l int, ids uintptr, n int, out, stream uintptr) (err error) {
	defer guard(&err)
	s, err := getHistory(h)
	if err != nil {
		return err
	}
	return s.PullDevice(l, ids, int64(n), out, stream)
}

// HistoryPushDevice is HistoryPush for a device store (device pointers,
// queued on stream after an id check that synchronizes it). Unverified on
// a real GPU.
func HistoryPushDevice(h, l int, rows, ids uintptr, n int, stream uintptr) (err error) {
	defer guard(&err)
	s, err := getHistory(h)
	if err != nil {
		return err
	}
	return s.PushDevice(l, rows, ids, int64(n), stream)
}

// pendingPull is an asynchronous pull behind a handle; freeing the handle
// waits for it, so that its buffers are never released under a copy.
type pendingPull struct{ p *history.Pending }

// Close waits for the pull; its error is HistoryWait's to report.
func (q pendingPull) Close() error {
	_ = q.p.Wait()
	return nil
}

// HistoryPullAsync starts copying the rows of layer l of page-locked store
// h at the n int64 host ids at ids to the device memory at dst, on the
// store's side stream, ordered after the work queued on stream. It returns
// a handle to wait on with HistoryWait (then free it); ids and dst must
// stay valid until then. Bad ids: index error, nothing started.
// Unverified on a real GPU.
func HistoryPullAsync(h, l int, ids uintptr, n int, dst, stream uintptr) (p int, err error) {
	defer guard(&err)
	s, err := getHistory(h)
	if err != nil {
		return 0, err
	}
	idv, err := int64s(ids, n)
	if err != nil {
		return 0, err
	}
	pend, err := s.PullAsync(l, idv, dst, stream)
	if err != nil {
		return 0, err
	}
	return put(pendingPull{pend}), nil
}

// HistoryWait waits for the asynchronous pull p (HistoryPullAsync) and
// returns its error; work queued on the pull's stream afterwards sees the
// rows. It may be called more than once.
func HistoryWait(p int) (err error) {
	defer guard(&err)
	q, err := get[pendingPull](p)
	if err != nil {
		return err
	}
	return q.p.Wait()
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
