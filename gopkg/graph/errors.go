package graph

import "github.com/ibmb-dev/ibmb/gopkg/errs"

// ErrIndex is wrapped by every error caused by a node id that is negative or
// not smaller than the number of nodes. Its kind is errs.Index.
var ErrIndex = errs.New(errs.Index, "index error")

// ErrValue is wrapped by every error caused by an otherwise invalid value:
// mismatched lengths, duplicate nodes in a batch, an unknown option, a size
// that overflows the index types, or a CSR that breaks its invariants. Its
// kind is errs.Value.
var ErrValue = errs.New(errs.Value, "value error")

// indexErrorf returns an error wrapping ErrIndex with a formatted message.
func indexErrorf(format string, args ...any) error {
	return errs.Errorf(ErrIndex, format, args...)
}

// valueErrorf returns an error wrapping ErrValue with a formatted message.
func valueErrorf(format string, args ...any) error {
	return errs.Errorf(ErrValue, format, args...)
}
