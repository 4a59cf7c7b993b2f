// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/ (shared with the other bindings), so this file pulls them in.
//
// The go command's build cache hashes only the files of this directory, not
// what they #include; the line below records a SHA-256 of csrc/gather.[ch]
// so that an edit there changes this file and the go command rebuilds (see
// internal/csrchash: `go run ./internal/csrchash/update` rewrites it, the
// engine build runs that first, and its test fails while the line is stale).
//
// csrc-sha256: 31e9f929083558cd1097a7d0c4fc71a1957e8e5fb7ad68b3be85ff4571bbcef0
#include "../../csrc/gather.c"
