// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/ (shared with the other bindings), so this file pulls them in.
//
// The go command's build cache hashes only the files of this directory, not
// what they #include; the line below records a SHA-256 of csrc/gather.[ch]
// and csrc/rowcopy.h so that an edit there changes this file and the go
// command rebuilds (see internal/csrchash: `go run ./internal/csrchash/update`
// rewrites it, the engine build runs that first, and its test fails while
// the line is stale).
//
// csrc-sha256: faecd0be8c3eb3bb1f46a1cd2e07e07560d7e66474e55c79f1bde56b8087ebbb
#include "../../csrc/gather.c"
