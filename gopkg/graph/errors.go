package graph

import (
	"errors"
	"fmt"
)

// ErrIndex is wrapped by every error caused by a node id that is negative or
// not smaller than the number of nodes. It corresponds to Python's
// IndexError.
var ErrIndex = errors.New("index error")

// ErrValue is wrapped by every error caused by an otherwise invalid value:
// mismatched lengths, duplicate nodes in a batch, an unknown option, a size
// that overflows the index types, or a CSR that breaks its invariants. It
// corresponds to Python's ValueError.
var ErrValue = errors.New("value error")

// indexErrorf returns an error wrapping ErrIndex with a formatted message.
func indexErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIndex, fmt.Sprintf(format, args...))
}

// valueErrorf returns an error wrapping ErrValue with a formatted message.
func valueErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrValue, fmt.Sprintf(format, args...))
}
