// Package cudasrc embeds the CUDA C++ sources of ibmb's GPU kernels so that
// Go code can hand them to NVRTC at run time (see package
// github.com/ibmb-dev/ibmb/kernels/cuda). Nothing here needs a GPU or a CUDA
// toolkit: the sources are plain strings.
package cudasrc

import _ "embed"

// Gather is the source of gather.cu: the row-gather kernels
// ibmb_gather_16, ibmb_gather_8, ibmb_gather_4 and ibmb_gather_1 (copy
// dst[i] = src[idx[i]] in 16-, 8-, 4- or 1-byte units) and the index check
// kernel ibmb_gather_check. It is self-contained (no #include) and compiles
// with NVRTC for any supported architecture; the invariants each kernel
// relies on are stated in the file's comments.
//
//go:embed gather.cu
var Gather string

// GatherKernels lists the extern "C" kernel names defined in Gather.
var GatherKernels = []string{
	"ibmb_gather_check",
	"ibmb_gather_16",
	"ibmb_gather_8",
	"ibmb_gather_4",
	"ibmb_gather_1",
}
