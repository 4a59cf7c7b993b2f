// Package dtype names the element types the engine stores rows of: the
// feature rows of a batch arena (package batch) and the layers of a history
// store (package history). Both record a type by its code, so the codes are
// fixed here once: they are written to arena files and cross to callers as
// integers, and never change.
//
// The engine moves rows as bytes; a type only fixes the element size and the
// name readers view the bytes with (numpy's and torch's spelling).
package dtype

import "strconv"

// DType is an element type, identified by its code.
type DType uint32

// The element types and their codes.
const (
	None     DType = 0 // no rows stored
	Float32  DType = 1
	Float16  DType = 2
	BFloat16 DType = 3
	Float64  DType = 4
)

var names = [...]string{None: "none", Float32: "float32", Float16: "float16", BFloat16: "bfloat16", Float64: "float64"}

var sizes = [...]int64{None: 0, Float32: 4, Float16: 2, BFloat16: 2, Float64: 8}

// Size returns the bytes of one element of type d (0 for None or an unknown
// type).
func (d DType) Size() int64 {
	if int(d) < len(sizes) {
		return sizes[d]
	}
	return 0
}

// String returns the type's name as numpy and torch spell it ("float32",
// "float16", "bfloat16", "float64"), "none" for None and "DType(n)" for an
// unknown code n.
func (d DType) String() string {
	if int(d) < len(names) {
		return names[d]
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}
