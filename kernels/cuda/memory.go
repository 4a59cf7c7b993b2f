package cuda

/*
#include "cuda_shim.h"
*/
import "C"

import (
	"unsafe"
)

// Memory, streams and events: the plumbing of a device-resident or
// page-locked store (gopkg/history). Every function runs in device dev's
// primary context (the one PyTorch uses), on a locked OS thread, like
// Gather. Handles (device pointers, streams, events) cross as uintptr.
// Unverified on a real GPU: tested on the CPU-emulated driver only.

// cuCheckOpt is cuCheck for the optional entry points (streams, events): a
// driver without them gives an error wrapping ErrUnavailable.
func cuCheckOpt(op string, r C.ibmb_CUresult) error {
	if r == C.IBMB_SHIM_NOT_LOADED {
		return newErr(ErrUnavailable, "cuda unavailable: the driver lacks %s", op)
	}
	return cuCheck(op, r)
}

func checkOrdinal(dev int, op string) error {
	if dev < 0 {
		return newErr(ErrValue, "cuda: %s: device ordinal %d is negative", op, dev)
	}
	return nil
}

// onDevice runs f with device dev's context current (withDevice) after
// checking the ordinal for operation op: the common body of the wrappers
// below.
func onDevice(dev int, op string, f func(*deviceState) error) error {
	if err := checkOrdinal(dev, op); err != nil {
		return err
	}
	return withDevice(dev, f)
}

// MemInfo returns the free and total memory of device dev in bytes
// (cuMemGetInfo).
func MemInfo(dev int) (free, total int64, err error) {
	err = onDevice(dev, "MemInfo", func(*deviceState) error {
		var f, t C.size_t
		if err := cuCheck("cuMemGetInfo", C.ibmb_cuMemGetInfo(&f, &t)); err != nil {
			return err
		}
		free, total = int64(f), int64(t)
		return nil
	})
	return free, total, err
}

// Alloc allocates bytes (> 0) of device memory on device dev, zero-filled
// (cuMemAlloc, cuMemsetD8), and returns its address. Release it with Free.
func Alloc(dev int, bytes int64) (ptr uintptr, err error) {
	if err := checkOrdinal(dev, "Alloc"); err != nil {
		return 0, err
	}
	if bytes <= 0 {
		return 0, newErr(ErrValue, "cuda: Alloc: bytes = %d, want > 0", bytes)
	}
	err = withDevice(dev, func(*deviceState) error {
		var p C.ibmb_CUdeviceptr
		if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&p, C.size_t(bytes))); err != nil {
			return err
		}
		if err := cuCheck("cuMemsetD8", C.ibmb_cuMemsetD8(p, 0, C.size_t(bytes))); err != nil {
			C.ibmb_cuMemFree(p)
			return err
		}
		ptr = uintptr(p)
		return nil
	})
	return ptr, err
}

// Free releases device memory from Alloc (cuMemFree).
func Free(dev int, ptr uintptr) error {
	return onDevice(dev, "Free", func(*deviceState) error {
		return cuCheck("cuMemFree", C.ibmb_cuMemFree(C.ibmb_CUdeviceptr(ptr)))
	})
}

// AllocHost allocates bytes (> 0) of page-locked host memory registered
// with device dev's context (cuMemAllocHost), zero-filled, outside the Go
// heap. Release it with FreeHost.
func AllocHost(dev int, bytes int64) (p unsafe.Pointer, err error) {
	if err := checkOrdinal(dev, "AllocHost"); err != nil {
		return nil, err
	}
	if bytes <= 0 {
		return nil, newErr(ErrValue, "cuda: AllocHost: bytes = %d, want > 0", bytes)
	}
	err = withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemAllocHost", C.ibmb_cuMemAllocHost(&p, C.size_t(bytes)))
	})
	if err == nil {
		clear(unsafe.Slice((*byte)(p), bytes))
	}
	return p, err
}

// FreeHost releases memory from AllocHost (cuMemFreeHost).
func FreeHost(dev int, p unsafe.Pointer) error {
	return onDevice(dev, "FreeHost", func(*deviceState) error {
		return cuCheck("cuMemFreeHost", C.ibmb_cuMemFreeHost(p))
	})
}

// CopyToDevice copies bytes bytes from host memory src to device address
// dst and waits (cuMemcpyHtoD).
func CopyToDevice(dev int, dst uintptr, src unsafe.Pointer, bytes int64) error {
	if err := checkOrdinal(dev, "CopyToDevice"); err != nil || bytes == 0 {
		return err
	}
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemcpyHtoD", C.ibmb_cuMemcpyHtoD(C.ibmb_CUdeviceptr(dst), src, C.size_t(bytes)))
	})
}

// CopyFromDevice copies bytes bytes from device address src to host memory
// dst and waits (cuMemcpyDtoH).
func CopyFromDevice(dev int, dst unsafe.Pointer, src uintptr, bytes int64) error {
	if err := checkOrdinal(dev, "CopyFromDevice"); err != nil || bytes == 0 {
		return err
	}
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemcpyDtoH", C.ibmb_cuMemcpyDtoH(dst, C.ibmb_CUdeviceptr(src), C.size_t(bytes)))
	})
}

// CopyToDeviceAsync queues a copy of bytes bytes from host memory src to
// device address dst on stream (cuMemcpyHtoDAsync) and returns. src must be
// page-locked (AllocHost) for the copy to be asynchronous and must stay
// valid until the stream has run it.
func CopyToDeviceAsync(dev int, dst uintptr, src unsafe.Pointer, bytes int64, stream uintptr) error {
	if err := checkOrdinal(dev, "CopyToDeviceAsync"); err != nil || bytes == 0 {
		return err
	}
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemcpyHtoDAsync", C.ibmb_cuMemcpyHtoDAsync(C.ibmb_CUdeviceptr(dst), src, C.size_t(bytes), C.uintptr_t(stream)))
	})
}

// Synchronize waits for all work queued on device dev (cuCtxSynchronize).
func Synchronize(dev int) error {
	return onDevice(dev, "Synchronize", func(*deviceState) error {
		return cuCheck("cuCtxSynchronize", C.ibmb_cuCtxSynchronize())
	})
}

// NewStream creates a stream on device dev that does not synchronize with
// the legacy default stream (CU_STREAM_NON_BLOCKING), for side work such
// as asynchronous copies. Release it with DestroyStream.
func NewStream(dev int) (stream uintptr, err error) {
	err = onDevice(dev, "NewStream", func(*deviceState) error {
		var s C.uintptr_t
		if err := cuCheckOpt("cuStreamCreate", C.ibmb_cuStreamCreate(&s, 1)); err != nil {
			return err
		}
		stream = uintptr(s)
		return nil
	})
	return stream, err
}

// DestroyStream releases a stream from NewStream (cuStreamDestroy); work
// already queued on it still completes.
func DestroyStream(dev int, stream uintptr) error {
	return onDevice(dev, "DestroyStream", func(*deviceState) error {
		return cuCheckOpt("cuStreamDestroy", C.ibmb_cuStreamDestroy(C.uintptr_t(stream)))
	})
}

// StreamSynchronize waits for the work queued on stream.
func StreamSynchronize(dev int, stream uintptr) error {
	return onDevice(dev, "StreamSynchronize", func(*deviceState) error {
		return cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(C.uintptr_t(stream)))
	})
}

// NewEvent creates an event without timing (CU_EVENT_DISABLE_TIMING) on
// device dev. Release it with DestroyEvent.
func NewEvent(dev int) (event uintptr, err error) {
	err = onDevice(dev, "NewEvent", func(*deviceState) error {
		var e C.uintptr_t
		if err := cuCheckOpt("cuEventCreate", C.ibmb_cuEventCreate(&e, 2)); err != nil {
			return err
		}
		event = uintptr(e)
		return nil
	})
	return event, err
}

// DestroyEvent releases an event from NewEvent (cuEventDestroy).
func DestroyEvent(dev int, event uintptr) error {
	return onDevice(dev, "DestroyEvent", func(*deviceState) error {
		return cuCheckOpt("cuEventDestroy", C.ibmb_cuEventDestroy(C.uintptr_t(event)))
	})
}

// RecordEvent records event on stream (cuEventRecord): it completes once
// the work queued on stream before it has.
func RecordEvent(dev int, event, stream uintptr) error {
	return onDevice(dev, "RecordEvent", func(*deviceState) error {
		return cuCheckOpt("cuEventRecord", C.ibmb_cuEventRecord(C.uintptr_t(event), C.uintptr_t(stream)))
	})
}

// StreamWaitEvent makes the work queued on stream after this call wait
// for event's last recording (cuStreamWaitEvent); the host does not wait.
func StreamWaitEvent(dev int, stream, event uintptr) error {
	return onDevice(dev, "StreamWaitEvent", func(*deviceState) error {
		return cuCheckOpt("cuStreamWaitEvent", C.ibmb_cuStreamWaitEvent(C.uintptr_t(stream), C.uintptr_t(event), 0))
	})
}

// EventSynchronize waits on the host until event's last recording has
// completed (cuEventSynchronize).
func EventSynchronize(dev int, event uintptr) error {
	return onDevice(dev, "EventSynchronize", func(*deviceState) error {
		return cuCheckOpt("cuEventSynchronize", C.ibmb_cuEventSynchronize(C.uintptr_t(event)))
	})
}
