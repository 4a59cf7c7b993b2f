package history

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"github.com/ibmb-dev/ibmb/kernels/gather"
	"github.com/ibmb-dev/ibmb/kernels/scatter"
)

// DType is the element type a store keeps (package dtype's: Float32,
// Float16, BFloat16 or Float64), the same codes as the batch arena's.
type DType = dtype.DType

// ErrValue is wrapped by the errors of invalid arguments.
var ErrValue = errs.New(errs.Value, "history: invalid argument")

// ErrIndex is wrapped by the errors of node ids outside [0, NumNodes).
var ErrIndex = errs.New(errs.Index, "history: node id out of range")

// ErrDuplicate is wrapped by the errors of a Push whose ids repeat.
var ErrDuplicate = errs.New(errs.Value, "history: repeated node id")

func valueErr(format string, args ...any) error {
	return errs.Errorf(ErrValue, format, args...)
}

// kernels moves rows between a host layer matrix and packed host buffers:
// the CPU kernels (cpuKernels), for host and page-locked stores alike. A
// device store moves rows with the CUDA kernels instead (gpu.go).
type kernels interface {
	gather(dst, src unsafe.Pointer, srcRows, rowBytes int64, idx unsafe.Pointer, n int64) error
	scatter(dst unsafe.Pointer, dstRows, rowBytes int64, src, idx unsafe.Pointer, n int64) error
}

// cpuKernels runs kernels/gather and kernels/scatter and translates their
// errors into this package's.
type cpuKernels struct{}

func (cpuKernels) gather(dst, src unsafe.Pointer, srcRows, rowBytes int64, idx unsafe.Pointer, n int64) error {
	return translate("pull", gather.Rows(dst, src, srcRows, rowBytes, idx, n))
}

func (cpuKernels) scatter(dst unsafe.Pointer, dstRows, rowBytes int64, src, idx unsafe.Pointer, n int64) error {
	return translate("push", scatter.Rows(dst, dstRows, rowBytes, src, idx, n))
}

// kindError is an error of this package: a message and the sentinels it
// wraps.
type kindError struct {
	msg   string
	kinds []error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() []error { return e.kinds }

// translate maps a kernel error to ErrIndex, ErrDuplicate (with ErrValue)
// or ErrValue, keeping the kernel's text, which names the position and the
// id. Other errors (memory) pass unchanged.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var kinds []error
	switch {
	case errors.Is(err, gather.ErrIndex), errors.Is(err, scatter.ErrIndex):
		kinds = []error{ErrIndex}
	case errors.Is(err, scatter.ErrDuplicate):
		kinds = []error{ErrDuplicate, ErrValue}
	case errors.Is(err, gather.ErrValue), errors.Is(err, scatter.ErrValue):
		kinds = []error{ErrValue}
	default:
		return err
	}
	msg := err.Error()
	for _, p := range []string{"gather: ", "scatter: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return &kindError{msg: "history: " + op + ": " + msg, kinds: kinds}
}

// layer is one [numNodes, dim] matrix.
type layer struct {
	mu     sync.RWMutex
	dim    int64
	host   unsafe.Pointer // numNodes*dim*size bytes outside the Go heap (Host, Pinned); nil for Device
	dev    uintptr        // device address (Device placement)
	closed bool
	free   func() error
}

// Store is a set of history matrices, one per hidden layer, all with the
// same number of rows (nodes) and element type. Create one with New and
// release its memory with Close.
type Store struct {
	numNodes  int64
	dtype     DType
	layers    []*layer
	k         kernels
	placement Placement
	ordinal   int       // CUDA device (Pinned, Device)
	async     asyncPool // side stream, staging buffers and pending pulls (Pinned)
}

// New allocates a store of len(dims) zero-filled [numNodes, dims[l]]
// matrices of dtype elements in host memory. numNodes must be positive,
// every dim positive and dims non-empty. The total size is checked against
// the memory available first (an error wrapping memlimit.ErrMemory names
// it). NewWith places the matrices in page-locked or device memory.
func New(numNodes int64, dims []int64, dtype DType) (*Store, error) {
	return NewWith(numNodes, dims, dtype, Options{})
}

// NewWith is New with the matrices placed as opt says (see Options):
// host memory, page-locked host memory or device memory of a CUDA device.
// Page-locked and device stores need the CUDA driver at run time (and cgo
// at build time); without it the error wraps errs.Unavailable. A device
// store's size is checked against the device's free memory (cuMemGetInfo)
// before anything is allocated.
func NewWith(numNodes int64, dims []int64, dtype DType, opt Options) (*Store, error) {
	if numNodes <= 0 {
		return nil, valueErr("numNodes must be positive, got %d", numNodes)
	}
	if len(dims) == 0 {
		return nil, valueErr("a store needs at least one layer")
	}
	size := dtype.Size()
	if size == 0 {
		return nil, valueErr("unknown dtype %v (want float32, float16, bfloat16 or float64)", dtype)
	}
	total := int64(0)
	for l, d := range dims {
		if d <= 0 {
			return nil, valueErr("dims[%d] = %d, want > 0", l, d)
		}
		b, ok := memlimit.Bytes(numNodes, d, size)
		if !ok || b > math.MaxInt64-total {
			return nil, memlimit.Check(fmt.Sprintf("history of %d layers of %d nodes", len(dims), numNodes), -1)
		}
		total += b
	}
	what := fmt.Sprintf("history of %d layers of %d nodes (%v)", len(dims), numNodes, dtype)
	s := &Store{numNodes: numNodes, dtype: dtype, k: cpuKernels{}, placement: opt.Placement, ordinal: opt.Device}
	if opt.Placement != Host {
		if err := s.allocGPU(dims, total, what); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := memlimit.Check(what, total); err != nil {
		return nil, err
	}
	for _, d := range dims {
		mem, free, err := mapAnon(numNodes * d * size)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.layers = append(s.layers, &layer{dim: d, host: unsafe.Pointer(&mem[0]), free: free})
	}
	return s, nil
}

// NumNodes returns the rows of every layer matrix.
func (s *Store) NumNodes() int64 { return s.numNodes }

// NumLayers returns the number of layer matrices.
func (s *Store) NumLayers() int { return len(s.layers) }

// DType returns the element type.
func (s *Store) DType() DType { return s.dtype }

// Dim returns the row width (elements) of layer l, or 0 when l is out of
// range.
func (s *Store) Dim(l int) int64 {
	if l < 0 || l >= len(s.layers) {
		return 0
	}
	return s.layers[l].dim
}

// RowBytes returns the bytes of one row of layer l (0 when l is out of
// range).
func (s *Store) RowBytes(l int) int64 { return s.Dim(l) * s.dtype.Size() }

// LayerBytes returns the size of layer l's matrix in bytes.
func (s *Store) LayerBytes(l int) int64 { return s.numNodes * s.RowBytes(l) }

// Bytes returns the memory of all layers.
func (s *Store) Bytes() int64 {
	t := int64(0)
	for l := range s.layers {
		t += s.LayerBytes(l)
	}
	return t
}

// Addr returns the address of layer l's first byte, for zero-copy views:
// a host address for Host and Pinned stores, a device address for a Device
// store. It is valid until Close. It returns an error for a bad layer or a
// closed store.
func (s *Store) Addr(l int) (addr uintptr, err error) {
	ly, err := s.layer(l)
	if err != nil {
		return 0, err
	}
	ly.mu.RLock()
	defer ly.mu.RUnlock()
	switch {
	case ly.closed:
		return 0, valueErr("the store is closed")
	case s.placement == Device:
		return ly.dev, nil
	}
	return uintptr(ly.host), nil
}

func (s *Store) layer(l int) (*layer, error) {
	if l < 0 || l >= len(s.layers) {
		return nil, valueErr("layer %d out of range for a store of %d layers", l, len(s.layers))
	}
	return s.layers[l], nil
}

// onLayer runs f on layer l's host matrix (its first byte and its row size
// in bytes) under the layer's lock: shared to read, exclusive to write. A
// bad layer, a closed store or a Device store is an error, and f does not
// run.
func (s *Store) onLayer(l int, write bool, f func(mem unsafe.Pointer, rowBytes int64) error) error {
	if s.placement == Device {
		return valueErr("the store is in device memory: use PullDevice and PushDevice (or Pull and Push)")
	}
	return s.lockLayer(l, write, func(ly *layer) error { return f(ly.host, ly.dim*s.dtype.Size()) })
}

// lockLayer runs f on layer l under its lock (shared to read, exclusive to
// write) unless l is bad or the store closed.
func (s *Store) lockLayer(l int, write bool, f func(ly *layer) error) error {
	ly, err := s.layer(l)
	if err != nil {
		return err
	}
	if write {
		ly.mu.Lock()
		defer ly.mu.Unlock()
	} else {
		ly.mu.RLock()
		defer ly.mu.RUnlock()
	}
	if ly.closed {
		return valueErr("the store is closed")
	}
	return f(ly)
}

// PullPtr writes to out the rows of layer l at the n node ids at ids:
// out[i] = H_l[ids[i]]. out must hold n*RowBytes(l) bytes and not overlap
// the store; ids must be 8-byte aligned int64 values, repeats allowed.
// Pointers may be C memory or pointer-free Go memory; they are not kept.
// An id outside [0, NumNodes) gives an error wrapping ErrIndex and leaves
// out untouched.
func (s *Store) PullPtr(l int, ids unsafe.Pointer, n int64, out unsafe.Pointer) error {
	return s.onLayer(l, false, func(mem unsafe.Pointer, rowBytes int64) error {
		return s.k.gather(out, mem, s.numNodes, rowBytes, ids, n)
	})
}

// PushPtr writes the n packed rows at rows into layer l at the node ids at
// ids: H_l[ids[i]] = rows[i]. rows must hold n*RowBytes(l) bytes; ids must
// be 8-byte aligned, distinct and in [0, NumNodes). On an error (ErrIndex,
// ErrDuplicate, ErrValue) the store is unchanged.
func (s *Store) PushPtr(l int, rows, ids unsafe.Pointer, n int64) error {
	return s.onLayer(l, true, func(mem unsafe.Pointer, rowBytes int64) error {
		return s.k.scatter(mem, s.numNodes, rowBytes, rows, ids, n)
	})
}

// Pull is PullPtr for Go slices: out receives len(ids) rows, so len(out)
// must be len(ids)*RowBytes(l). On a Device store it copies ids to the
// device, gathers there and copies the rows back (a convenience, not a fast
// path).
func (s *Store) Pull(l int, ids []int64, out []byte) error {
	if err := s.checkLen(l, "out", len(out), len(ids)); err != nil {
		return err
	}
	if s.placement == Device {
		return s.pullDeviceSlices(l, ids, out)
	}
	err := s.PullPtr(l, unsafe.Pointer(unsafe.SliceData(ids)), int64(len(ids)), unsafe.Pointer(unsafe.SliceData(out)))
	runtime.KeepAlive(ids)
	runtime.KeepAlive(out)
	return err
}

// Push is PushPtr for Go slices: rows holds len(ids) rows, so len(rows)
// must be len(ids)*RowBytes(l). On a Device store it goes through device
// buffers like Pull.
func (s *Store) Push(l int, rows []byte, ids []int64) error {
	if err := s.checkLen(l, "rows", len(rows), len(ids)); err != nil {
		return err
	}
	if s.placement == Device {
		return s.pushDeviceSlices(l, rows, ids)
	}
	err := s.PushPtr(l, unsafe.Pointer(unsafe.SliceData(rows)), unsafe.Pointer(unsafe.SliceData(ids)), int64(len(ids)))
	runtime.KeepAlive(ids)
	runtime.KeepAlive(rows)
	return err
}

func (s *Store) checkLen(l int, name string, have, n int) error {
	if _, err := s.layer(l); err != nil {
		return err
	}
	if rb := s.RowBytes(l); int64(have) != int64(n)*rb {
		return valueErr("len(%s) = %d, want %d rows of %d bytes", name, have, n, rb)
	}
	return nil
}

// Close releases the memory of every layer; later calls fail with ErrValue
// and addresses from Addr become invalid. Close waits for running Pulls and
// Pushes (and for asynchronous pulls: their CPU part, then their copies,
// see PullAsync) and may be called more than once. Work the caller queued
// on its own streams against a Device store must be finished first (Close
// synchronizes the device before freeing to be safe).
func (s *Store) Close() error {
	first := s.closeGPU()
	for _, ly := range s.layers {
		ly.mu.Lock()
		if !ly.closed {
			if err := ly.free(); err != nil && first == nil {
				first = err
			}
			ly.closed, ly.host, ly.dev, ly.free = true, nil, 0, nil
		}
		ly.mu.Unlock()
	}
	return first
}
