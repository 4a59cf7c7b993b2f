// Package cudasrc embeds the CUDA C++ sources of ibmb's GPU kernels so that
// Go code can hand them to NVRTC at run time (see package
// github.com/ibmb-dev/ibmb/kernels/cuda). Nothing here needs a GPU or a CUDA
// toolkit: the sources are plain strings.
package cudasrc

import _ "embed"

// Gather is the source of gather.cu: the row-gather kernels
// ibmb_gather_16, ibmb_gather_8, ibmb_gather_4 and ibmb_gather_1 (copy
// dst[i] = src[idx[i]] in 16-, 8-, 4- or 1-byte units) with the index check
// kernel ibmb_gather_check, and their inverse, the row-scatter kernels
// ibmb_scatter_16/8/4/1 (dst[idx[i]] = src[i], distinct ids) with their
// two-pass index check ibmb_scatter_mark and ibmb_scatter_find. It is
// self-contained (no #include) and compiles with NVRTC for any supported
// architecture; the invariants each kernel relies on are stated in the
// file's comments.
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
	"ibmb_scatter_mark",
	"ibmb_scatter_find",
	"ibmb_scatter_16",
	"ibmb_scatter_8",
	"ibmb_scatter_4",
	"ibmb_scatter_1",
}

// PPR is the source of ppr.cu: approximate personalized PageRank with the
// local push for many teleport sets at once, one warp per set with a
// private hash table in global memory. Its kernels ibmb_ppr_topk_1,
// ibmb_ppr_topk_2 and ibmb_ppr_topk_4 write the top k <= 32, 64 or 128
// entries of every vector, sorted; ibmb_ppr_all writes all positive entries
// into an output pool. Like Gather it is self-contained; the host contract
// is stated at the top of the file.
//
//go:embed ppr.cu
var PPR string

// PPRKernels lists the extern "C" kernel names defined in PPR.
var PPRKernels = []string{
	"ibmb_ppr_topk_1",
	"ibmb_ppr_topk_2",
	"ibmb_ppr_topk_4",
	"ibmb_ppr_all",
}
