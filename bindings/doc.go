// Package bindings is the one Go package that gopy exports to Python as
// ibmb._core.bindings. It is a thin facade over gopkg/ and kernels/:
//
//   - arguments and results are ints, floats, strings and uintptr only;
//     buffers cross as a data pointer (uintptr) plus a length, never as
//     element-wise slices, and Go never keeps such a pointer after the call;
//   - Go objects that Python holds (graphs, later PPR results and batch
//     arenas) live in a handle table and are addressed by an int handle that
//     Python frees with Free;
//   - every exported function returns an error last and recovers panics into
//     errors, because a panic here would kill the Python interpreter. Error
//     messages start with "ibmb:<kind>: " where kind is one of index, type,
//     value, io, unavailable, runtime or internal; the Python layer maps the
//     kind to IndexError, TypeError, ValueError, OSError, ibmb.UnavailableError,
//     RuntimeError and ibmb.EngineError. An io error caused by a failed
//     system call carries its errno, "ibmb:io:<errno>: " (see fileErr).
//
// gopy releases the GIL for every call, so Python threads run while Go works.
package bindings
