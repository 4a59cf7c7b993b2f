// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/, so this file pulls them in. The line below records a SHA-256 of
// csrc/scatter.[ch] so that an edit there changes this file and the go
// command rebuilds (see internal/csrchash: `go run ./internal/csrchash/update`).
//
// csrc-sha256: 228d34eeac342ed5a10cc081bfec289c0c89584ad9873b4d13a207e2c66c0f23
#include "../../csrc/scatter.c"
