package history

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// Placement says where a store's matrices live.
type Placement int

const (
	// Host keeps the matrices in ordinary host memory (an anonymous
	// mapping); rows move through the CPU kernels. The default.
	Host Placement = iota
	// Pinned keeps them in page-locked host memory of a CUDA device's
	// context (cuMemAllocHost): Pull and Push work as for Host, and
	// PullAsync copies rows to device memory on a side stream.
	Pinned
	// Device keeps them in device memory (cuMemAlloc); PullDevice and
	// PushDevice move rows with the CUDA gather and scatter kernels on a
	// caller-given stream.
	Device
)

// String returns "host", "pinned" or "device".
func (p Placement) String() string {
	switch p {
	case Host:
		return "host"
	case Pinned:
		return "pinned"
	case Device:
		return "device"
	}
	return fmt.Sprintf("Placement(%d)", int(p))
}

// Options are the optional settings of NewWith.
type Options struct {
	// Placement is where the matrices live (Host when zero).
	Placement Placement
	// Device is the CUDA device ordinal of a Pinned or Device store.
	Device int
}

// gpuDriver is the CUDA plumbing of Pinned and Device stores: kernels/cuda
// in a cgo build (gpu_cgo.go), nil without cgo. Errors of gather and
// scatter come back translated into this package's kinds.
type gpuDriver interface {
	memInfo(dev int) (free, total int64, err error)
	alloc(dev int, bytes int64) (uintptr, error) // zero-filled
	free(dev int, p uintptr) error
	allocHost(dev int, bytes int64) (unsafe.Pointer, error) // zero-filled
	freeHost(dev int, p unsafe.Pointer) error
	toDevice(dev int, dst uintptr, src unsafe.Pointer, bytes int64) error
	fromDevice(dev int, dst unsafe.Pointer, src uintptr, bytes int64) error
	toDeviceAsync(dev int, dst uintptr, src unsafe.Pointer, bytes int64, stream uintptr) error
	gather(dev int, dst, src uintptr, srcRows, rowBytes int64, idx uintptr, n int64, stream uintptr) error
	scatter(dev int, dst uintptr, dstRows, rowBytes int64, src, idx uintptr, n int64, stream uintptr) error
	sync(dev int) error
	syncStream(dev int, stream uintptr) error
	newStream(dev int) (uintptr, error)
	destroyStream(dev int, stream uintptr) error
	newEvent(dev int) (uintptr, error)
	destroyEvent(dev int, event uintptr) error
	record(dev int, event, stream uintptr) error
	streamWait(dev int, stream, event uintptr) error
	syncEvent(dev int, event uintptr) error
}

// allocGPU allocates the layers of a Pinned or Device store (s's other
// fields set), checking total against the memory there first. On an error
// it frees what it allocated.
func (s *Store) allocGPU(dims []int64, total int64, what string) error {
	switch {
	case s.placement != Pinned && s.placement != Device:
		return valueErr("unknown placement %v (want Host, Pinned or Device)", s.placement)
	case s.ordinal < 0:
		return valueErr("device ordinal %d is negative", s.ordinal)
	case gpu == nil:
		return fmt.Errorf("%w: history: a %v store needs CUDA: built without cgo", errs.Unavailable, s.placement)
	}
	if s.placement == Pinned {
		if err := memlimit.Check(what+" page-locked", total); err != nil {
			return err
		}
	} else {
		free, devTotal, err := gpu.memInfo(s.ordinal)
		if err != nil {
			return err
		}
		if total > free {
			return fmt.Errorf("%w: history: %s needs %d bytes of device memory; device %d has %d free of %d",
				memlimit.ErrMemory, what, total, s.ordinal, free, devTotal)
		}
	}
	size := s.dtype.Size()
	for _, d := range dims {
		bytes := s.numNodes * d * size
		ly := &layer{dim: d}
		dev := s.ordinal
		if s.placement == Pinned {
			p, err := gpu.allocHost(dev, bytes)
			if err != nil {
				s.Close()
				return err
			}
			ly.host, ly.free = p, func() error { return gpu.freeHost(dev, p) }
		} else {
			p, err := gpu.alloc(dev, bytes)
			if err != nil {
				s.Close()
				return err
			}
			ly.dev, ly.free = p, func() error { return gpu.free(dev, p) }
		}
		s.layers = append(s.layers, ly)
	}
	return nil
}

// Placement returns where the store's matrices live.
func (s *Store) Placement() Placement { return s.placement }

// DeviceOrdinal returns the CUDA device of a Pinned or Device store (0 for
// a Host store).
func (s *Store) DeviceOrdinal() int { return s.ordinal }

func (s *Store) needDevice(op string) error {
	if s.placement != Device {
		return valueErr("%s needs a Device store, this one is %v", op, s.placement)
	}
	return nil
}

// PullDevice is PullPtr for a Device store: it writes to out the rows of
// layer l at the n node ids at ids, all three device addresses on the
// store's device (ids: n int64 values, 8-byte aligned; out: n*RowBytes(l)
// bytes, not overlapping the store). The id check runs on stream and waits
// for it; the copy is then queued on stream (the CUDA gather) and
// PullDevice returns without waiting for it: read out on the same stream,
// or synchronize first. An id outside [0, NumNodes) gives an error wrapping
// ErrIndex and out is not written.
func (s *Store) PullDevice(l int, ids uintptr, n int64, out uintptr, stream uintptr) error {
	if err := s.needDevice("PullDevice"); err != nil {
		return err
	}
	return s.lockLayer(l, false, func(ly *layer) error {
		return gpu.gather(s.ordinal, out, ly.dev, s.numNodes, ly.dim*s.dtype.Size(), ids, n, stream)
	})
}

// PushDevice is PushPtr for a Device store: it writes the n packed rows at
// rows into layer l at the n node ids at ids (device addresses as for
// PullDevice), on stream. Ids must be distinct and in range; they are
// checked on stream first (which waits for it), and on an error (ErrIndex,
// ErrDuplicate, ErrValue) the store is unchanged. The copy itself is queued
// and not waited for.
func (s *Store) PushDevice(l int, rows, ids uintptr, n int64, stream uintptr) error {
	if err := s.needDevice("PushDevice"); err != nil {
		return err
	}
	return s.lockLayer(l, true, func(ly *layer) error {
		return gpu.scatter(s.ordinal, ly.dev, s.numNodes, ly.dim*s.dtype.Size(), rows, ids, n, stream)
	})
}

// withDeviceBuffers allocates device buffers of the given sizes (0 gives
// address 0), runs f on them and frees them after synchronizing the device.
func (s *Store) withDeviceBuffers(sizes []int64, f func(bufs []uintptr) error) error {
	bufs := make([]uintptr, len(sizes))
	defer func() {
		_ = gpu.sync(s.ordinal)
		for _, b := range bufs {
			if b != 0 {
				_ = gpu.free(s.ordinal, b)
			}
		}
	}()
	for i, n := range sizes {
		if n > 0 {
			b, err := gpu.alloc(s.ordinal, n)
			if err != nil {
				return err
			}
			bufs[i] = b
		}
	}
	return f(bufs)
}

// pullDeviceSlices is Pull for a Device store (lengths checked).
func (s *Store) pullDeviceSlices(l int, ids []int64, out []byte) error {
	n := int64(len(ids))
	if n == 0 {
		return s.lockLayer(l, false, func(*layer) error { return nil })
	}
	defer runtime.KeepAlive(ids)
	defer runtime.KeepAlive(out)
	return s.withDeviceBuffers([]int64{8 * n, int64(len(out))}, func(b []uintptr) error {
		if err := gpu.toDevice(s.ordinal, b[0], unsafe.Pointer(&ids[0]), 8*n); err != nil {
			return err
		}
		if err := s.PullDevice(l, b[0], n, b[1], 0); err != nil {
			return err
		}
		return gpu.fromDevice(s.ordinal, unsafe.Pointer(&out[0]), b[1], int64(len(out)))
	})
}

// pushDeviceSlices is Push for a Device store (lengths checked).
func (s *Store) pushDeviceSlices(l int, rows []byte, ids []int64) error {
	n := int64(len(ids))
	if n == 0 {
		return s.lockLayer(l, true, func(*layer) error { return nil })
	}
	defer runtime.KeepAlive(ids)
	defer runtime.KeepAlive(rows)
	return s.withDeviceBuffers([]int64{8 * n, int64(len(rows))}, func(b []uintptr) error {
		if err := gpu.toDevice(s.ordinal, b[0], unsafe.Pointer(&ids[0]), 8*n); err != nil {
			return err
		}
		if err := gpu.toDevice(s.ordinal, b[1], unsafe.Pointer(&rows[0]), int64(len(rows))); err != nil {
			return err
		}
		return s.PushDevice(l, b[1], b[0], n, 0)
	})
}

// ---- asynchronous pulls of a Pinned store -----------------------------------

// staging is a page-locked buffer the CPU gathers rows into before they are
// copied to the device.
type staging struct {
	p    unsafe.Pointer
	size int64
}

// maxStaging is how many idle staging buffers a store keeps.
const maxStaging = 4

// asyncPool is a Pinned store's state for PullAsync.
type asyncPool struct {
	mu      sync.Mutex
	closing bool
	side    uintptr // side stream, made on first use
	idle    []staging
	pending map[*Pending]struct{}
	wg      sync.WaitGroup // CPU parts of pulls in flight
}

// Pending is an asynchronous pull in flight (PullAsync). Wait for it
// exactly as the consumer of its rows needs: Wait.
type Pending struct {
	s        *Store
	done     chan struct{} // closed when the CPU gather and the copy are queued
	err      error
	consumer uintptr // the caller's stream
	ready    uintptr // event on the consumer stream, before the copy
	copied   uintptr // event on the side stream, after the copy
	buf      staging
	once     sync.Once
	finished bool // under s.async.mu: events destroyed, buffer given back
}

// SideStream returns the stream a Pinned store's asynchronous pulls copy
// on (0 before the first PullAsync).
func (s *Store) SideStream() uintptr {
	s.async.mu.Lock()
	defer s.async.mu.Unlock()
	return s.async.side
}

// PullAsync starts copying the rows of layer l at ids to the device memory
// at dst (len(ids)*RowBytes(l) bytes on the store's device) without
// blocking the caller, for a Pinned store: on a CPU thread it gathers the
// rows into a page-locked staging buffer, then queues the copy to dst on
// the store's side stream (cuMemcpyHtoDAsync). The copy is ordered after
// the work already queued on stream (the consumer's stream, e.g. PyTorch's
// current stream; 0 = legacy default stream) through an event, so dst may
// be memory that stream has just released. ids are checked on the host
// before anything starts: an id outside [0, NumNodes) gives an error
// wrapping ErrIndex and nothing is written. ids must not change, and dst
// must stay allocated, until Wait returns.
func (s *Store) PullAsync(l int, ids []int64, dst uintptr, stream uintptr) (*Pending, error) {
	if s.placement != Pinned {
		return nil, valueErr("PullAsync needs a Pinned store, this one is %v", s.placement)
	}
	ly, err := s.layer(l)
	if err != nil {
		return nil, err
	}
	for i, v := range ids {
		if v < 0 || v >= s.numNodes {
			return nil, &kindError{msg: fmt.Sprintf("history: pull: idx[%d] = %d is out of range [0, %d); output not written",
				i, v, s.numNodes), kinds: []error{ErrIndex}}
		}
	}
	n := int64(len(ids))
	if n > 0 && dst == 0 {
		return nil, valueErr("PullAsync: dst is null")
	}
	bytes := n * ly.dim * s.dtype.Size()
	p := &Pending{s: s, done: make(chan struct{}), consumer: stream}
	a := &s.async
	a.mu.Lock()
	defer a.mu.Unlock()
	ly.mu.RLock()
	closed := ly.closed
	ly.mu.RUnlock()
	if closed || a.closing {
		return nil, valueErr("the store is closed")
	}
	if n == 0 {
		close(p.done)
		p.finished = true
		return p, nil
	}
	if err := p.start(bytes); err != nil {
		p.release()
		return nil, err
	}
	if a.pending == nil {
		a.pending = map[*Pending]struct{}{}
	}
	a.pending[p] = struct{}{}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(p.done)
		defer runtime.KeepAlive(ids)
		p.err = s.lockLayer(l, false, func(ly *layer) error {
			return s.k.gather(p.buf.p, ly.host, s.numNodes, ly.dim*s.dtype.Size(), unsafe.Pointer(&ids[0]), n)
		})
		if p.err == nil {
			p.err = gpu.toDeviceAsync(s.ordinal, dst, p.buf.p, bytes, a.side)
		}
		if p.err == nil {
			p.err = gpu.record(s.ordinal, p.copied, a.side)
		}
	}()
	return p, nil
}

// start prepares p (caller holds s.async.mu): the side stream, a staging
// buffer of bytes bytes, and the events that order the copy after the
// consumer's stream.
func (p *Pending) start(bytes int64) error {
	s, a := p.s, &p.s.async
	var err error
	if a.side == 0 {
		if a.side, err = gpu.newStream(s.ordinal); err != nil {
			return err
		}
	}
	if p.buf, err = a.getStaging(s.ordinal, bytes); err != nil {
		return err
	}
	if p.ready, err = gpu.newEvent(s.ordinal); err != nil {
		return err
	}
	if p.copied, err = gpu.newEvent(s.ordinal); err != nil {
		return err
	}
	if err = gpu.record(s.ordinal, p.ready, p.consumer); err != nil {
		return err
	}
	return gpu.streamWait(s.ordinal, a.side, p.ready)
}

// release destroys p's events and gives its staging buffer back (caller
// holds s.async.mu). The copy must be finished.
func (p *Pending) release() {
	s, a := p.s, &p.s.async
	for _, e := range []uintptr{p.ready, p.copied} {
		if e != 0 {
			_ = gpu.destroyEvent(s.ordinal, e)
		}
	}
	p.ready, p.copied = 0, 0
	if p.buf.p != nil {
		a.putStaging(s.ordinal, p.buf)
		p.buf = staging{}
	}
	p.finished = true
	delete(a.pending, p)
}

// finish completes p after its CPU part (caller holds s.async.mu): the
// consumer stream waits for the copy, the host waits for it too, and the
// resources go back.
func (p *Pending) finish() {
	if p.finished {
		return
	}
	if p.err == nil {
		p.err = gpu.streamWait(p.s.ordinal, p.consumer, p.copied)
	}
	if err := gpu.syncEvent(p.s.ordinal, p.copied); err != nil && p.err == nil {
		p.err = err
	}
	p.release()
}

// Wait blocks until the rows are in dst and returns the pull's error (nil,
// or e.g. a driver failure). Work queued on the consumer stream after Wait
// sees the rows; Wait also waits on the host for the copy, after which the
// staging buffer is reused. Wait may be called more than once and from any
// goroutine.
func (p *Pending) Wait() error {
	<-p.done
	// s.async.mu before p.once, in the order closeGPU takes them: the
	// other order deadlocks a Wait racing Close.
	a := &p.s.async
	a.mu.Lock()
	p.once.Do(p.finish)
	a.mu.Unlock()
	return p.err
}

// getStaging returns an idle buffer of at least bytes bytes, or a new one.
func (a *asyncPool) getStaging(dev int, bytes int64) (staging, error) {
	best := -1
	for i, b := range a.idle {
		if b.size >= bytes && (best < 0 || b.size < a.idle[best].size) {
			best = i
		}
	}
	if best >= 0 {
		b := a.idle[best]
		a.idle = append(a.idle[:best], a.idle[best+1:]...)
		return b, nil
	}
	size := max(bytes, 1<<16)
	p, err := gpu.allocHost(dev, size)
	return staging{p: p, size: size}, err
}

// putStaging keeps b for reuse, freeing the smallest buffer beyond
// maxStaging.
func (a *asyncPool) putStaging(dev int, b staging) {
	a.idle = append(a.idle, b)
	if len(a.idle) > maxStaging {
		small := 0
		for i, x := range a.idle {
			if x.size < a.idle[small].size {
				small = i
			}
		}
		_ = gpu.freeHost(dev, a.idle[small].p)
		a.idle = append(a.idle[:small], a.idle[small+1:]...)
	}
}

// closeGPU ends a Pinned or Device store's GPU state: it waits for
// asynchronous pulls, finishes those nobody waited for, destroys the side
// stream, frees the staging buffers and synchronizes the device. It
// returns the first error.
func (s *Store) closeGPU() error {
	if s.placement == Host || gpu == nil {
		return nil
	}
	a := &s.async
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	a.wg.Wait() // no new pulls start; their CPU parts end
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := range a.pending {
		p.once.Do(p.finish)
	}
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if a.side != 0 {
		keep(gpu.syncStream(s.ordinal, a.side))
		keep(gpu.destroyStream(s.ordinal, a.side))
		a.side = 0
	}
	for _, b := range a.idle {
		keep(gpu.freeHost(s.ordinal, b.p))
	}
	a.idle = nil
	if s.placement == Device && len(s.layers) > 0 {
		keep(gpu.sync(s.ordinal))
	}
	return first
}
