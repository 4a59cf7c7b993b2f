package cuda

/*
#include <stdlib.h>
#include "cuda_shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// kernelModule is one .cu file compiled by NVRTC and loaded into a device's
// primary context, with its kernels looked up by name.
type kernelModule struct {
	module uintptr
	arch   int    // architecture compiled for
	kind   string // "cubin" or "ptx"
	fns    map[string]uintptr
}

// loadKernelModule compiles src (named file in diagnostics) for the device
// and loads it into the current context (caller: inside withDevice, holding
// d.modMu), looking up the kernels names. The architecture is the largest
// NVRTC-supported one <= the device's compute capability. When it has the
// device's major version, a CUBIN is tried first (no JIT; loads on drivers
// older than NVRTC within the same CUDA major version); otherwise, or if
// that fails, PTX is JIT-compiled by the driver. Both go through the
// on-disk cache.
func (d *deviceState) loadKernelModule(src, file string, names []string) (*kernelModule, error) {
	if err := loadNVRTC(); err != nil {
		return nil, err
	}
	cc := d.info.Major*10 + d.info.Minor
	arch := cc
	if archs, err := SupportedArchs(); err == nil {
		if arch = chooseArch(archs, cc); arch == 0 {
			return nil, newErr(ErrUnavailable, "cuda unavailable: NVRTC %s supports no architecture <= sm_%d (supported: %v)",
				nvrtcVersionString(), cc, archs)
		}
	}

	var cubinErr error
	if arch/10 == d.info.Major && C.ibmb_nvrtc_has_cubin() != 0 {
		img, _, err := compileCached(src, file, arch, true, nil)
		if err == nil {
			var m *kernelModule
			if m, err = loadModuleFuncs(img, false, arch, names); err == nil {
				return m, nil
			}
		}
		cubinErr = err
	}
	ptx, _, err := compileCached(src, file, arch, false, nil)
	if err != nil {
		return nil, err
	}
	m, err := loadModuleFuncs(ptx, true, arch, names)
	if err != nil {
		if cubinErr != nil {
			base := ErrCUDA
			var w *wrapped
			if errors.As(err, &w) {
				base = w.base
			}
			return nil, newErr(base, "%v (the sm_%d CUBIN failed too: %v)", err, arch, cubinErr)
		}
		return nil, err
	}
	return m, nil
}

// loadModuleFuncs loads a PTX (text) or CUBIN image into the current
// context and looks up the kernels names.
func loadModuleFuncs(image []byte, isPTX bool, arch int, names []string) (*kernelModule, error) {
	mod, err := loadModule(image, isPTX)
	if err != nil {
		return nil, err
	}
	m := &kernelModule{module: mod, arch: arch, kind: "cubin", fns: make(map[string]uintptr, len(names))}
	if isPTX {
		m.kind = "ptx"
	}
	for _, name := range names {
		cname := C.CString(name)
		var fn C.uintptr_t
		err = cuCheck("cuModuleGetFunction("+name+")", C.ibmb_cuModuleGetFunction(&fn, C.uintptr_t(mod), cname))
		C.free(unsafe.Pointer(cname))
		if err != nil {
			C.ibmb_cuModuleUnload(C.uintptr_t(mod))
			return nil, err
		}
		m.fns[name] = uintptr(fn)
	}
	return m, nil
}

// loadModule is cuModuleLoadDataEx with the JIT error log in the error.
func loadModule(image []byte, isPTX bool) (uintptr, error) {
	var p unsafe.Pointer
	if isPTX {
		p = unsafe.Pointer(C.CString(string(image))) // PTX must be NUL-terminated
	} else {
		p = C.CBytes(image)
	}
	defer C.free(p)
	var jitLog [16384]C.char
	var mod C.uintptr_t
	r := C.ibmb_cuModuleLoadData(&mod, p, &jitLog[0], C.size_t(len(jitLog)))
	if r == C.IBMB_CUDA_SUCCESS {
		return uintptr(mod), nil
	}
	what := "CUBIN"
	if isPTX {
		what = "PTX"
	}
	msg := fmt.Sprintf("cuda: loading the %s module (cuModuleLoadDataEx) failed: %s", what, cuName(r))
	if l := C.GoString(&jitLog[0]); l != "" {
		msg += "\n--- JIT log ---\n" + l
	}
	switch r {
	case C.IBMB_CUDA_ERROR_UNSUPPORTED_PTX_VERSION, C.IBMB_CUDA_ERROR_NO_BINARY_FOR_GPU:
		// The driver is older than NVRTC: not our bug, an environment issue.
		dma, dmi, _ := DriverVersion()
		return 0, newErr(ErrUnavailable, "cuda unavailable: %s; the driver supports CUDA %d.%d but NVRTC is %s: "+
			"use an NVRTC no newer than the driver (IBMB_NVRTC / IBMB_NVRTC_DIRS)", msg, dma, dmi, nvrtcVersionString())
	}
	return 0, newErr(ErrCUDA, "%s", msg)
}
