// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/ (shared with the other bindings), so this file pulls them in.
//
// The go command's build cache hashes only the files of this directory, not
// what they #include, so an edit to csrc/gather.[ch] alone would leave a
// stale object in the cache. The line below records a SHA-256 of those two
// files; editing them changes it (TestCSourceHash fails until it is updated
// with `go test ./kernels/gather -run TestCSourceHash -gather.update`), and
// the changed line makes the go command rebuild.
//
// csrc-sha256: 31e9f929083558cd1097a7d0c4fc71a1957e8e5fb7ad68b3be85ff4571bbcef0
#include "../../csrc/gather.c"
