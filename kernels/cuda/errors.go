package cuda

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

// ErrUnavailable is wrapped by every error that means "the GPU path cannot
// be used here": no NVIDIA driver (libcuda.so.1), cuInit failing (for
// example CUDA_ERROR_NO_DEVICE), no NVRTC library, or a driver too old for
// the code NVRTC produces. Callers fall back to a CPU path when
// errors.Is(err, ErrUnavailable). The error text says which case it is,
// e.g. "cuda unavailable: libcuda.so.1 not found (no NVIDIA driver)" or
// "nvrtc unavailable: no libnvrtc found (...)".
var ErrUnavailable = errs.New(errs.Unavailable, "cuda unavailable")

// ErrIndex is wrapped by the error Gather returns when an index is outside
// [0, srcRows); the message gives the first bad position and its value, and
// the output has not been written.
var ErrIndex = errs.New(errs.Index, "index out of range")

// ErrValue is wrapped by errors about invalid arguments (non-positive row
// size, negative counts, null or misaligned pointers, overlapping buffers,
// unknown device ordinal, architecture not supported by NVRTC, ...).
var ErrValue = errs.New(errs.Value, "invalid argument")

// ErrDuplicate is wrapped (beside ErrValue) by the error Scatter returns
// when an id occurs more than once; the store has not been written.
var ErrDuplicate = errs.New(errs.Value, "repeated index")

// ErrCompile is wrapped by NVRTC compilation failures; the message contains
// the NVRTC log and the source with line numbers.
var ErrCompile = errs.New(errs.Runtime, "nvrtc compilation failed")

// ErrCUDA is wrapped by failures of CUDA driver calls on a working driver
// (out of memory, illegal address, invalid stream handle, ...); the message
// names the call and the CUresult, e.g.
// "cuda: cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
var ErrCUDA = errs.New(errs.Runtime, "cuda driver call failed")

// wrapped is an error with its own full message that matches base with
// errors.Is.
type wrapped struct {
	base error
	msg  string
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.base }

func newErr(base error, format string, args ...any) error {
	return &wrapped{base: base, msg: fmt.Sprintf(format, args...)}
}

// multiWrapped is wrapped with several bases (ErrDuplicate and ErrValue).
type multiWrapped struct {
	bases []error
	msg   string
}

func (e *multiWrapped) Error() string   { return e.msg }
func (e *multiWrapped) Unwrap() []error { return e.bases }
