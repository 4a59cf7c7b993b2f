// The run-time loader for the CUDA driver API and NVRTC lives in csrc/ so
// that C code outside Go can use it too; cgo only compiles .c files in the
// package directory, hence this one-line unit.
#include "../../csrc/cuda_shim.c"
