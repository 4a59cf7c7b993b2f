// cgo compiles only the .c files of the package directory; the kernels live
// in csrc/, so this file pulls them in. The line below records a SHA-256 of
// csrc/scatter.[ch] and csrc/rowcopy.h so that an edit there changes this
// file and the go command rebuilds (see internal/csrchash: `go run ./internal/csrchash/update`).
//
// csrc-sha256: 05bd49e92c43c41442c1da0514e9c8089789de59600ecf84753ccca45728de7c
#include "../../csrc/scatter.c"
