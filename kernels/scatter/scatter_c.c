// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/, so this file pulls them in. The line below records a SHA-256 of
// csrc/scatter.[ch] so that an edit there changes this file and the go
// command rebuilds (see internal/csrchash: `go run ./internal/csrchash/update`).
//
// csrc-sha256: 80739088387a1d32c0555eaaf0ab3b0d5e30a153c4a9a115442609af0490e5f9
#include "../../csrc/scatter.c"
