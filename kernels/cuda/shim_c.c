// The run-time loader for the CUDA driver API and NVRTC lives in csrc/ so
// that C code outside Go can use it too; cgo only compiles .c files in the
// package directory, hence this one-line unit.
//
// The go command's build cache hashes only the files of this directory, not
// what they #include; the line below records a SHA-256 of csrc/cuda_shim.[ch]
// so that an edit there changes this file and the go command rebuilds (see
// internal/csrchash).
//
// csrc-sha256: 5ccdd09f5ccc9e18dbedb26bbe9ca4cccac86faf78e46a96e011a374bb5c0f6c
#include "../../csrc/cuda_shim.c"
