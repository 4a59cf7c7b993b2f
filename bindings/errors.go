package bindings

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

// Error kinds are errs.Kind names; they appear after "ibmb:" in error
// messages ("ibmb:value: ..."), and python/ibmb/_native.py maps each to its
// exception (the one place that does). Kinds come from errs.KindOf: every
// package of the engine wraps the kinds of package errs.
const (
	kindIO       = "io"
	kindInternal = "internal"
)

var (
	errHandle = errs.New(errs.Value, "invalid handle")
	errArg    = errs.New(errs.Value, "invalid argument")
	errMemory = errs.New(errs.Memory, "not enough memory")
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
	return fmt.Errorf("ibmb:%s: %s", errs.KindOf(err).Name(), msg)
}

// fileErr tags the error of a file operation. Cancellation, memory and
// argument errors keep their kinds; everything else (missing file,
// permissions, a non-regular file, a corrupt or truncated arena) is an io
// error. When the cause is a system call that failed with an errno, the tag
// carries it, "ibmb:io:<errno>: <op>: <reason>", so that the caller can
// raise the errno's own kind of io error (file not found, permission
// denied, is a directory, ...); the path is left for the caller to name.
func fileErr(err error) error {
	if err == nil {
		return nil
	}
	switch errs.KindOf(err) {
	case errs.Canceled, errs.Memory, errs.Value:
		return tag(err)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) && errno != 0 {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// The path is the caller's to name (it may differ: a temporary
			// file, a symbolic link's target).
			msg = pe.Op + ": " + errno.Error()
		}
		return fmt.Errorf("ibmb:%s:%d: %s", kindIO, int(errno), msg)
	}
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

// maxElems bounds the length of any buffer Python passes (2^47 bytes of
// int64 or float64, beyond any machine's memory): a larger length is a bad
// argument, not a slice the runtime refuses with a panic.
const maxElems = 1 << 44

// int64s views n int64 values at p (nil when n is 0).
func int64s(p uintptr, n int) ([]int64, error) { return view[int64](p, n) }

// float64s views n float64 values at p (nil when n is 0).
func float64s(p uintptr, n int) ([]float64, error) { return view[float64](p, n) }

// view views n values of type T at p (nil when n is 0); a null p or a
// negative or huge n is an argument error.
func view[T any](p uintptr, n int) ([]T, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || n > maxElems || p == 0 {
		return nil, argErr("bad buffer: pointer %#x, length %d", p, n)
	}
	return unsafe.Slice((*T)(ptr(p)), n), nil
}

// buffer is one caller buffer that viewAll views (made by at).
type buffer interface{ view() error }

// into is the buffer of n values of type T at p, viewed into *dst.
type into[T any] struct {
	dst *[]T
	p   uintptr
	n   int
}

func (b into[T]) view() (err error) {
	*b.dst, err = view[T](b.p, b.n)
	return err
}

// at names the buffer of n values at p that viewAll views into *dst.
func at[T any](dst *[]T, p uintptr, n int) buffer { return into[T]{dst, p, n} }

// viewAll views the buffers of a call in order (see view) and returns the
// first argument error.
func viewAll(bufs ...buffer) error {
	for _, b := range bufs {
		if err := b.view(); err != nil {
			return err
		}
	}
	return nil
}

// int64sCopy copies n int64 values at p (nil when n is 0), for jobs that
// outlive the call.
func int64sCopy(p uintptr, n int) ([]int64, error) {
	v, err := int64s(p, n)
	return slices.Clone(v), err
}

// putInts writes vals as len(vals) int64 at out.
func putInts(out uintptr, vals ...int64) error {
	o, err := int64s(out, len(vals))
	copy(o, vals)
	return err
}

// mulLen returns a·b for two buffer dimensions, or an argument error naming
// what when either is negative or the product exceeds maxElems.
func mulLen(what string, a, b int) (int, error) {
	if a < 0 || b < 0 || (a > 0 && b > math.MaxInt/a) || a*b > maxElems {
		return 0, argErr("%s: %d × %d elements is negative or too large", what, a, b)
	}
	return a * b, nil
}
