package cuda

/*
#include <stdlib.h>
#include "cuda_shim.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

var (
	nvrtcOnce sync.Once
	nvrtcErr  error
)

// loadNVRTC finds and opens libnvrtc once per process (search order:
// $IBMB_NVRTC, libnvrtc.so, libnvrtc.so.13, libnvrtc.so.12,
// libnvrtc.so.11.2, then libnvrtc.so* in the directories of
// $IBMB_NVRTC_DIRS). It needs no GPU and no driver.
func loadNVRTC() error {
	nvrtcOnce.Do(func() {
		var buf [4096]C.char
		if st := C.ibmb_nvrtc_load(&buf[0], C.size_t(len(buf))); st != C.IBMB_LOAD_OK {
			nvrtcErr = newErr(ErrUnavailable, "nvrtc unavailable: %s", C.GoString(&buf[0]))
		}
	})
	return nvrtcErr
}

// nvrtcName renders an nvrtcResult, e.g. "NVRTC_ERROR_COMPILATION".
func nvrtcName(r C.ibmb_nvrtcResult) string {
	if r == C.IBMB_SHIM_NOT_LOADED {
		return "entry point not loaded"
	}
	if s := C.ibmb_nvrtcGetErrorString(r); s != nil {
		return C.GoString(s)
	}
	return fmt.Sprintf("nvrtcResult %d", int(r))
}

func nvrtcCheck(op string, r C.ibmb_nvrtcResult) error {
	if r == 0 {
		return nil
	}
	return newErr(ErrCUDA, "nvrtc: %s failed: %s", op, nvrtcName(r))
}

// NVRTCLibrary returns the path of the loaded NVRTC library, or an error
// wrapping ErrUnavailable saying what was searched.
func NVRTCLibrary() (string, error) {
	if err := loadNVRTC(); err != nil {
		return "", err
	}
	return C.GoString(C.ibmb_nvrtc_library()), nil
}

// NVRTCVersion returns the version of the loaded NVRTC library (e.g. 12, 9).
// It works without a GPU; it fails with an error wrapping ErrUnavailable
// when no NVRTC library can be found.
func NVRTCVersion() (major, minor int, err error) {
	if err := loadNVRTC(); err != nil {
		return 0, 0, err
	}
	var ma, mi C.int
	if err := nvrtcCheck("nvrtcVersion", C.ibmb_nvrtcVersion(&ma, &mi)); err != nil {
		return 0, 0, err
	}
	return int(ma), int(mi), nil
}

// SupportedArchs returns the GPU architectures the loaded NVRTC can compile
// for, ascending, as compute capability numbers major*10+minor (e.g. 75, 80,
// 86, 89, 90, 100, 120). NVRTC older than 11.2 cannot list them; then the
// error wraps ErrUnavailable.
func SupportedArchs() ([]int, error) {
	if err := loadNVRTC(); err != nil {
		return nil, err
	}
	if C.ibmb_nvrtc_has_supported_archs() == 0 {
		ma, mi, _ := NVRTCVersion()
		return nil, newErr(ErrUnavailable, "nvrtc unavailable: NVRTC %d.%d cannot list its supported architectures (needs 11.2+)", ma, mi)
	}
	var n C.int
	if err := nvrtcCheck("nvrtcGetNumSupportedArchs", C.ibmb_nvrtcGetNumSupportedArchs(&n)); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	buf := make([]C.int, int(n))
	if err := nvrtcCheck("nvrtcGetSupportedArchs", C.ibmb_nvrtcGetSupportedArchs(&buf[0])); err != nil {
		return nil, err
	}
	archs := make([]int, len(buf))
	for i, a := range buf {
		archs[i] = int(a)
	}
	slices.Sort(archs)
	return archs, nil
}

// CompilePTX compiles CUDA C++ source src with NVRTC for the virtual
// architecture compute_<arch> (arch = major*10+minor, e.g. 80 or 90) and
// returns the PTX text. name is the file name used in diagnostics (default
// "kernel.cu"); opts are extra NVRTC options (e.g. "-lineinfo",
// "-DWIDTH=4"). Kernels meant to be looked up by name should be declared
// extern "C".
//
// It needs no GPU and no driver, only NVRTC. On a compile error the result
// wraps ErrCompile and its text contains the NVRTC log and the source with
// line numbers. The result is not cached; the kernels used by Gather go
// through the on-disk cache in CacheDir.
func CompilePTX(src, name string, arch int, opts ...string) (string, error) {
	out, err := compile(src, name, arch, false, opts)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// CompileCUBIN is CompilePTX for the real architecture sm_<arch>: it returns
// the ELF CUBIN (machine code), which loads without a JIT step on devices of
// the same major compute capability and minor >= arch%10. It needs NVRTC
// 11.1 or newer.
func CompileCUBIN(src, name string, arch int, opts ...string) ([]byte, error) {
	return compile(src, name, arch, true, opts)
}

// compile runs NVRTC: PTX for compute_<arch>, or CUBIN for sm_<arch>.
func compile(src, name string, arch int, cubin bool, opts []string) ([]byte, error) {
	out, _, err := compileWithLog(src, name, arch, cubin, opts)
	return out, err
}

// compileWithLog is compile that also returns the NVRTC log of a successful
// compilation (warnings; with --ptxas-options=-v the register and spill
// counts of every kernel).
func compileWithLog(src, name string, arch int, cubin bool, opts []string) (out []byte, log string, err error) {
	out, prog, err := compileProgram(src, name, arch, cubin, opts)
	if prog != 0 {
		log = programLog(prog)
		C.ibmb_nvrtcDestroyProgram(&prog)
	}
	return out, log, err
}

// compileProgram does the work of compileWithLog; when it returns a nonzero
// program the caller destroys it.
func compileProgram(src, name string, arch int, cubin bool, opts []string) (_ []byte, prog C.uintptr_t, _ error) {
	if err := loadNVRTC(); err != nil {
		return nil, 0, err
	}
	if name == "" {
		name = "kernel.cu"
	}
	if arch <= 0 {
		return nil, 0, newErr(ErrValue, "nvrtc: invalid architecture %d (want major*10+minor, e.g. 80)", arch)
	}
	if cubin && C.ibmb_nvrtc_has_cubin() == 0 {
		ma, mi, _ := NVRTCVersion()
		return nil, 0, newErr(ErrUnavailable, "nvrtc unavailable: NVRTC %d.%d cannot emit CUBIN (needs 11.1+)", ma, mi)
	}
	if archs, err := SupportedArchs(); err == nil && !slices.Contains(archs, arch) {
		ma, mi, _ := NVRTCVersion()
		return nil, 0, newErr(ErrValue, "nvrtc: architecture %d is not supported by NVRTC %d.%d (supported: %v)", arch, ma, mi, archs)
	}
	target := fmt.Sprintf("compute_%d", arch)
	if cubin {
		target = fmt.Sprintf("sm_%d", arch)
	}
	all := append([]string{"--gpu-architecture=" + target}, opts...)

	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))

	if err := nvrtcCheck("nvrtcCreateProgram", C.ibmb_nvrtcCreateProgram(&prog, csrc, cname)); err != nil {
		return nil, 0, err
	}

	// The option strings and the array of pointers to them live in C memory.
	copts := (**C.char)(C.malloc(C.size_t(len(all)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	defer C.free(unsafe.Pointer(copts))
	optv := unsafe.Slice(copts, len(all))
	for i, o := range all {
		optv[i] = C.CString(o)
	}
	defer func() {
		for _, p := range optv {
			C.free(unsafe.Pointer(p))
		}
	}()

	r := C.ibmb_nvrtcCompileProgram(prog, C.int(len(all)), copts)
	if r != 0 {
		return nil, prog, newErr(ErrCompile, "nvrtc: compiling %s for %s (NVRTC %s) failed: %s\n--- NVRTC log ---\n%s\n--- options ---\n%s\n--- source (%s) ---\n%s",
			name, target, nvrtcVersionString(), nvrtcName(r), strings.TrimRight(programLog(prog), "\n"),
			strings.Join(all, " "), name, numberLines(src))
	}

	var size C.size_t
	if cubin {
		if err := nvrtcCheck("nvrtcGetCUBINSize", C.ibmb_nvrtcGetCUBINSize(prog, &size)); err != nil {
			return nil, prog, err
		}
	} else if err := nvrtcCheck("nvrtcGetPTXSize", C.ibmb_nvrtcGetPTXSize(prog, &size)); err != nil {
		return nil, prog, err
	}
	if size == 0 {
		return nil, prog, newErr(ErrCUDA, "nvrtc: %s produced no output for %s", name, target)
	}
	out := make([]byte, int(size))
	if cubin {
		if err := nvrtcCheck("nvrtcGetCUBIN", C.ibmb_nvrtcGetCUBIN(prog, (*C.char)(unsafe.Pointer(&out[0])))); err != nil {
			return nil, prog, err
		}
		return out, prog, nil
	}
	if err := nvrtcCheck("nvrtcGetPTX", C.ibmb_nvrtcGetPTX(prog, (*C.char)(unsafe.Pointer(&out[0])))); err != nil {
		return nil, prog, err
	}
	// The PTX size includes the terminating NUL.
	if i := strings.IndexByte(string(out), 0); i >= 0 {
		out = out[:i]
	}
	return out, prog, nil
}

func nvrtcVersionString() string {
	ma, mi, err := NVRTCVersion()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%d.%d", ma, mi)
}

// programLog returns the NVRTC log of prog ("" when empty).
func programLog(prog C.uintptr_t) string {
	var n C.size_t
	if C.ibmb_nvrtcGetProgramLogSize(prog, &n) != 0 || n <= 1 {
		return ""
	}
	buf := make([]byte, int(n))
	if C.ibmb_nvrtcGetProgramLog(prog, (*C.char)(unsafe.Pointer(&buf[0]))) != 0 {
		return ""
	}
	if i := strings.IndexByte(string(buf), 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf)
}

// numberLines prefixes each line of src with its 1-based number.
func numberLines(src string) string {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%4d | %s\n", i+1, l)
	}
	return b.String()
}
