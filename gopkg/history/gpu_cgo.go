//go:build cgo

package history

import (
	"errors"
	"strings"
	"unsafe"

	"github.com/ibmb-dev/ibmb/kernels/cuda"
)

// gpu is kernels/cuda: Pinned and Device stores work when the NVIDIA driver
// (and, for Device stores, NVRTC) load at run time.
var gpu gpuDriver = cudaDriver{}

// cudaDriver implements gpuDriver with kernels/cuda.
type cudaDriver struct{}

func (cudaDriver) memInfo(dev int) (int64, int64, error)       { return cuda.MemInfo(dev) }
func (cudaDriver) alloc(dev int, bytes int64) (uintptr, error) { return cuda.Alloc(dev, bytes) }
func (cudaDriver) free(dev int, p uintptr) error               { return cuda.Free(dev, p) }
func (cudaDriver) allocHost(dev int, bytes int64) (unsafe.Pointer, error) {
	return cuda.AllocHost(dev, bytes)
}
func (cudaDriver) freeHost(dev int, p unsafe.Pointer) error { return cuda.FreeHost(dev, p) }
func (cudaDriver) toDevice(dev int, dst uintptr, src unsafe.Pointer, bytes int64) error {
	return cuda.CopyToDevice(dev, dst, src, bytes)
}
func (cudaDriver) fromDevice(dev int, dst unsafe.Pointer, src uintptr, bytes int64) error {
	return cuda.CopyFromDevice(dev, dst, src, bytes)
}
func (cudaDriver) toDeviceAsync(dev int, dst uintptr, src unsafe.Pointer, bytes int64, stream uintptr) error {
	return cuda.CopyToDeviceAsync(dev, dst, src, bytes, stream)
}
func (cudaDriver) gather(dev int, dst, src uintptr, srcRows, rowBytes int64, idx uintptr, n int64, stream uintptr) error {
	return translateCUDA("pull", cuda.Gather(dev, dst, src, srcRows, rowBytes, idx, n, stream))
}
func (cudaDriver) scatter(dev int, dst uintptr, dstRows, rowBytes int64, src, idx uintptr, n int64, stream uintptr) error {
	return translateCUDA("push", cuda.Scatter(dev, dst, dstRows, rowBytes, src, idx, n, stream))
}
func (cudaDriver) sync(dev int) error { return cuda.Synchronize(dev) }
func (cudaDriver) syncStream(dev int, stream uintptr) error {
	return cuda.StreamSynchronize(dev, stream)
}
func (cudaDriver) newStream(dev int) (uintptr, error) { return cuda.NewStream(dev) }
func (cudaDriver) destroyStream(dev int, stream uintptr) error {
	return cuda.DestroyStream(dev, stream)
}
func (cudaDriver) newEvent(dev int) (uintptr, error)         { return cuda.NewEvent(dev) }
func (cudaDriver) destroyEvent(dev int, event uintptr) error { return cuda.DestroyEvent(dev, event) }
func (cudaDriver) record(dev int, event, stream uintptr) error {
	return cuda.RecordEvent(dev, event, stream)
}
func (cudaDriver) streamWait(dev int, stream, event uintptr) error {
	return cuda.StreamWaitEvent(dev, stream, event)
}
func (cudaDriver) syncEvent(dev int, event uintptr) error { return cuda.EventSynchronize(dev, event) }

// translateCUDA maps an error of the CUDA gather or scatter to ErrIndex,
// ErrDuplicate (with ErrValue) or ErrValue like translate does for the CPU
// kernels, keeping the text; other errors (unavailable, driver failures)
// pass unchanged.
func translateCUDA(op string, err error) error {
	if err == nil {
		return nil
	}
	var kinds []error
	switch {
	case errors.Is(err, cuda.ErrIndex):
		kinds = []error{ErrIndex}
	case errors.Is(err, cuda.ErrDuplicate):
		kinds = []error{ErrDuplicate, ErrValue}
	case errors.Is(err, cuda.ErrValue):
		kinds = []error{ErrValue}
	default:
		return err
	}
	msg := err.Error()
	for _, p := range []string{"cuda: gather: ", "cuda: scatter: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return &kindError{msg: "history: " + op + " (cuda): " + msg, kinds: kinds}
}
