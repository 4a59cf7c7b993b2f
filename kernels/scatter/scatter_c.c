// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/, so this file pulls them in. The line below records a SHA-256 of
// csrc/scatter.[ch] and csrc/rowcopy.h so that an edit there changes this
// file and the go command rebuilds (see internal/csrchash: `go run ./internal/csrchash/update`).
//
// csrc-sha256: 58e3add14fe54f6411e9364715a35928d095bc15a143d8471f865da8ca5994a4
#include "../../csrc/scatter.c"
