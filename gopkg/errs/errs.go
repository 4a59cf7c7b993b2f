// Package errs holds the kinds of error the engine reports: one small
// vocabulary that every package of the engine wraps, so that a caller (the
// bindings, a Go program) classifies any engine error with errors.Is or
// KindOf instead of knowing each package's sentinels.
//
// Each package keeps its own sentinel errors (graph.ErrValue,
// gather.ErrIndex, ...) with their messages; each sentinel is made with New
// and so also matches its kind:
//
//	var ErrValue = errs.New(errs.Value, "value error")
//	errors.Is(err, graph.ErrValue) // this package's value errors
//	errors.Is(err, errs.Value)     // any package's value errors
//
// Errors returned with context.Canceled or context.DeadlineExceeded in their
// chain are of kind Canceled without further wrapping.
//
// The package imports nothing of the engine, so packages at every layer
// (gopkg, kernels, internal) may import it.
package errs

import (
	"context"
	"errors"
	"fmt"
)

// Kind is a class of error. Kinds are compared by identity: use the
// package's variables, never construct one.
type Kind struct{ name string }

// Error returns the kind's name followed by " error", e.g. "value error".
func (k *Kind) Error() string { return k.name + " error" }

// Name returns the kind's short name, e.g. "value"; the bindings put it in
// every error message they return ("ibmb:value: ...").
func (k *Kind) Name() string { return k.name }

// The kinds of error.
var (
	// Index: an id or position outside its valid range (a node id not
	// smaller than the number of nodes, a row index past the source).
	Index = &Kind{"index"}
	// Type: a buffer of the wrong element type for the call.
	Type = &Kind{"type"}
	// Value: any other invalid argument: mismatched lengths, a parameter
	// out of range, an unknown option, a structure that breaks its
	// invariants.
	Value = &Kind{"value"}
	// IO: a file that cannot be read or written, or whose content is not
	// what it should be (a corrupt or truncated arena file).
	IO = &Kind{"io"}
	// Unavailable: an optional backend cannot be used here (no NVIDIA
	// driver, no device, built without cgo). Callers may fall back.
	Unavailable = &Kind{"unavailable"}
	// Runtime: a backend that was available failed (a CUDA driver call, a
	// kernel compilation) or a call came out of order.
	Runtime = &Kind{"runtime"}
	// Memory: an allocation refused, or a size over the memory limit.
	Memory = &Kind{"memory"}
	// Canceled: the caller cancelled the work (its context is done).
	Canceled = &Kind{"canceled"}
	// Internal: a bug in the engine (a recovered panic, a broken
	// invariant); any error without another kind is reported as Internal.
	Internal = &Kind{"internal"}
)

// Kinds lists every kind in the order KindOf tries them: when an error
// wraps several kinds the first listed wins.
var Kinds = []*Kind{Index, Type, Value, Unavailable, Runtime, IO, Memory, Canceled, Internal}

// sentinel is an error with its own message that also matches its kind.
type sentinel struct {
	kind *Kind
	msg  string
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.kind }

// New returns a new sentinel error with message msg that matches kind with
// errors.Is (and itself, like errors.New). Packages declare their sentinels
// with it.
func New(kind *Kind, msg string) error { return &sentinel{kind: kind, msg: msg} }

// Errorf returns an error that wraps base (a package's sentinel, or a Kind)
// and says base's message, ": ", then the formatted text, e.g.
// Errorf(ErrValue, "dims[%d] = %d", 2, 0) says "value error: dims[2] = 0".
// Packages make their errors with it.
func Errorf(base error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", base, fmt.Sprintf(format, args...))
}

// KindOf returns the kind of err: the first of Kinds that err wraps,
// Canceled when err wraps context.Canceled or context.DeadlineExceeded,
// Internal otherwise. KindOf(nil) is nil.
func KindOf(err error) *Kind {
	if err == nil {
		return nil
	}
	for _, k := range Kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	return Internal
}
