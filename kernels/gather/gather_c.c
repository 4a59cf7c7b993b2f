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
// csrc-sha256: 21a0fabd7df1505dad8807350214fd2c90b4b8a03633565a31e0e17fb5787afd
#include "../../csrc/gather.c"
