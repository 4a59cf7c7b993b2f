package cuda

/*
#cgo CFLAGS: -O2 -fno-fast-math -I${SRCDIR}/../../csrc
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "cuda_shim.h"
*/
import "C"

import (
	"fmt"
	"sync"
)

var (
	driverOnce sync.Once
	driverErr  error
)

// loadDriver opens libcuda.so.1 and runs cuInit(0), once per process.
func loadDriver() error {
	driverOnce.Do(func() {
		var buf [2048]C.char
		if st := C.ibmb_cuda_load(&buf[0], C.size_t(len(buf))); st != C.IBMB_LOAD_OK {
			driverErr = newErr(ErrUnavailable, "cuda unavailable: %s", C.GoString(&buf[0]))
		}
	})
	return driverErr
}

// cuName renders a CUresult as "CUDA_ERROR_X (description)".
func cuName(r C.ibmb_CUresult) string {
	if r == C.IBMB_SHIM_NOT_LOADED {
		return "entry point not loaded"
	}
	name, desc := C.ibmb_cuGetErrorName(r), C.ibmb_cuGetErrorString(r)
	switch {
	case name != nil && desc != nil:
		return fmt.Sprintf("%s (%s)", C.GoString(name), C.GoString(desc))
	case name != nil:
		return C.GoString(name)
	default:
		return fmt.Sprintf("CUresult %d", int(r))
	}
}

// cuCheck turns a failed driver call into an error wrapping ErrCUDA.
func cuCheck(op string, r C.ibmb_CUresult) error {
	if r == C.IBMB_CUDA_SUCCESS {
		return nil
	}
	return newErr(ErrCUDA, "cuda: %s failed: %s", op, cuName(r))
}

// DriverLibrary returns the name or path the CUDA driver library was loaded
// from ("libcuda.so.1" unless IBMB_LIBCUDA overrides it), or the reason it
// could not be used.
func DriverLibrary() (string, error) {
	if err := loadDriver(); err != nil {
		return "", err
	}
	return C.GoString(C.ibmb_cuda_library()), nil
}

// DriverVersion returns the CUDA version the installed driver supports
// (e.g. 12, 4 for a CUDA 12.4 driver). It fails with an error wrapping
// ErrUnavailable when there is no usable driver.
func DriverVersion() (major, minor int, err error) {
	if err := loadDriver(); err != nil {
		return 0, 0, err
	}
	var v C.int
	if err := cuCheck("cuDriverGetVersion", C.ibmb_cuDriverGetVersion(&v)); err != nil {
		return 0, 0, err
	}
	return int(v) / 1000, (int(v) % 1000) / 10, nil
}

// DeviceCount returns the number of CUDA devices. It fails with an error
// wrapping ErrUnavailable when the driver is missing or cuInit fails
// (a machine without an NVIDIA GPU); it never needs NVRTC.
func DeviceCount() (int, error) {
	if err := loadDriver(); err != nil {
		return 0, err
	}
	var n C.int
	if err := cuCheck("cuDeviceGetCount", C.ibmb_cuDeviceGetCount(&n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// DeviceInfo describes one CUDA device.
type DeviceInfo struct {
	// Name is the marketing name, e.g. "NVIDIA H100 80GB HBM3".
	Name string
	// Major and Minor are the compute capability (9, 0 for sm_90).
	Major, Minor int
	// SMs is the number of streaming multiprocessors.
	SMs int
	// TotalMem is the device memory in bytes.
	TotalMem uint64
}

// String formats the info as "NAME (sm_XY, N SMs, G GiB)".
func (d DeviceInfo) String() string {
	return fmt.Sprintf("%s (sm_%d%d, %d SMs, %.1f GiB)", d.Name, d.Major, d.Minor, d.SMs,
		float64(d.TotalMem)/(1<<30))
}

// cuDevice resolves an ordinal to a CUdevice after checking its range.
func cuDevice(ordinal int) (C.ibmb_CUdevice, error) {
	n, err := DeviceCount()
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, newErr(ErrUnavailable, "cuda unavailable: no CUDA devices")
	}
	if ordinal < 0 || ordinal >= n {
		return 0, newErr(ErrValue, "cuda: device ordinal %d out of range (%d devices)", ordinal, n)
	}
	var dev C.ibmb_CUdevice
	if err := cuCheck("cuDeviceGet", C.ibmb_cuDeviceGet(&dev, C.int(ordinal))); err != nil {
		return 0, err
	}
	return dev, nil
}

// Device returns the name, compute capability, SM count and memory size of
// device ordinal (0-based, in the driver's order, which honours
// CUDA_VISIBLE_DEVICES like PyTorch does).
func Device(ordinal int) (DeviceInfo, error) {
	dev, err := cuDevice(ordinal)
	if err != nil {
		return DeviceInfo{}, err
	}
	return deviceInfo(dev)
}

func deviceInfo(dev C.ibmb_CUdevice) (DeviceInfo, error) {
	var info DeviceInfo
	attr := func(a C.int, what string) (int, error) {
		var v C.int
		err := cuCheck("cuDeviceGetAttribute("+what+")", C.ibmb_cuDeviceGetAttribute(&v, a, dev))
		return int(v), err
	}
	var err error
	if info.Major, err = attr(C.IBMB_CU_ATTR_COMPUTE_CAPABILITY_MAJOR, "compute capability major"); err != nil {
		return DeviceInfo{}, err
	}
	if info.Minor, err = attr(C.IBMB_CU_ATTR_COMPUTE_CAPABILITY_MINOR, "compute capability minor"); err != nil {
		return DeviceInfo{}, err
	}
	if info.SMs, err = attr(C.IBMB_CU_ATTR_MULTIPROCESSOR_COUNT, "multiprocessor count"); err != nil {
		return DeviceInfo{}, err
	}
	var name [256]C.char
	if err := cuCheck("cuDeviceGetName", C.ibmb_cuDeviceGetName(&name[0], C.int(len(name)-1), dev)); err != nil {
		return DeviceInfo{}, err
	}
	info.Name = C.GoString(&name[0])
	var mem C.size_t
	if err := cuCheck("cuDeviceTotalMem", C.ibmb_cuDeviceTotalMem(&mem, dev)); err != nil {
		return DeviceInfo{}, err
	}
	info.TotalMem = uint64(mem)
	return info, nil
}

// Available reports whether the GPU path can be used: nil when the NVIDIA
// driver loads, cuInit succeeds, at least one device exists and an NVRTC
// library can be loaded (Gather compiles its kernels at first use).
// Otherwise it returns an error wrapping ErrUnavailable whose text says
// why. It never panics and is cheap after the first call.
func Available() error {
	n, err := DeviceCount()
	if err != nil {
		return err
	}
	if n == 0 {
		return newErr(ErrUnavailable, "cuda unavailable: no CUDA devices")
	}
	return loadNVRTC()
}

// currentContext / setContext wrap cuCtxGetCurrent / cuCtxSetCurrent; the
// caller must hold its OS thread (runtime.LockOSThread).
func currentContext() (uintptr, error) {
	var c C.uintptr_t
	if err := cuCheck("cuCtxGetCurrent", C.ibmb_cuCtxGetCurrent(&c)); err != nil {
		return 0, err
	}
	return uintptr(c), nil
}

func setContext(ctx uintptr) error {
	return cuCheck("cuCtxSetCurrent", C.ibmb_cuCtxSetCurrent(C.uintptr_t(ctx)))
}

// makeCurrent makes ctx current on the calling (locked) OS thread and
// returns a function that restores the previous one, so that a caller such
// as PyTorch finds its thread as it left it.
func makeCurrent(ctx uintptr) (restore func(), err error) {
	prev, err := currentContext()
	if err != nil {
		return nil, err
	}
	if prev == ctx {
		return func() {}, nil
	}
	if err := setContext(ctx); err != nil {
		return nil, err
	}
	return func() { _ = setContext(prev) }, nil
}
