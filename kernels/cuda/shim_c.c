// The run-time loader for the CUDA driver API and NVRTC lives in csrc/ so
// that C code outside Go can use it too; cgo only compiles .c files in the
// package directory, hence this one-line unit.
//
// The go command's build cache hashes only the files of this directory, not
// what they #include; the line below records a SHA-256 of csrc/cuda_shim.[ch]
// so that an edit there changes this file and the go command rebuilds (see
// internal/csrchash).
//
// csrc-sha256: a16faaa65c5fb452b0441c17b26051a494eb7c11381d646ddbe6de239ce71bd6
#include "../../csrc/cuda_shim.c"
