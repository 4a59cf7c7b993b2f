package bindings

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/profiling"
	"github.com/ibmb-dev/ibmb/gopkg/schedule"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
	"github.com/ibmb-dev/ibmb/kernels/gather"
)

// Error kinds, as they appear after "ibmb:" in error messages.
const (
	kindIndex       = "index"
	kindType        = "type"
	kindValue       = "value"
	kindIO          = "io"
	kindUnavailable = "unavailable"
	kindInternal    = "internal"
	kindRuntime     = "runtime"
	kindMemory      = "memory"
	kindCanceled    = "canceled"
)

// kinds maps the sentinel errors of the engine's packages to their kind.
var kinds = []struct {
	err  error
	kind string
}{
	{graph.ErrIndex, kindIndex},
	{graph.ErrValue, kindValue},
	{gather.ErrIndex, kindIndex},
	{gather.ErrValue, kindValue},
	{cuda.ErrIndex, kindIndex},
	{cuda.ErrValue, kindValue},
	{cuda.ErrUnavailable, kindUnavailable},
	{cuda.ErrCompile, kindRuntime},
	{cuda.ErrCUDA, kindRuntime},
	{synth.ErrValue, kindValue},
	{schedule.ErrValue, kindValue},
	{profiling.ErrUnavailable, kindUnavailable},
	{profiling.ErrValue, kindValue},
	{profiling.ErrState, kindRuntime},
	{profiling.ErrNVML, kindRuntime},

	{errHandle, kindValue},
	{errArg, kindValue},
	{errMemory, kindMemory},
	{context.Canceled, kindCanceled},
}

var (
	errHandle = errors.New("invalid handle")
	errArg    = errors.New("invalid argument")
	errMemory = errors.New("not enough memory")
)

// tag prefixes err's message with its kind. Errors that are already tagged
// are returned unchanged.
func tag(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "ibmb:") {
		return err
	}
	kind := kindInternal
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			kind = k.kind
			break
		}
	}
	return fmt.Errorf("ibmb:%s: %s", kind, msg)
}

// ioErr tags file errors (missing file, permissions, corrupt or truncated
// arena files) as io errors, which Python raises as OSError.
func ioErr(err error) error {
	return fmt.Errorf("ibmb:%s: %s", kindIO, err.Error())
}

// argErr reports a bad argument from the facade itself.
func argErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errArg}, a...)...)
}

// guard is deferred by every exported function: it turns a panic into an
// internal error carrying the stack, and tags any other error with its kind.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("ibmb:%s: panic in engine: %v\n%s", kindInternal, r, debug.Stack())
		return
	}
	*err = tag(*err)
}

// ptr turns an address that Python passed as an integer back into a pointer.
// The memory belongs to Python (numpy, torch) and stays alive for the call.
func ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// int64s views n int64 values at p (nil when n is 0).
func int64s(p uintptr, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || p == 0 {
		return nil, argErr("bad buffer: pointer %#x, length %d", p, n)
	}
	return unsafe.Slice((*int64)(ptr(p)), n), nil
}
