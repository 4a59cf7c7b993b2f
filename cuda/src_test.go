package cudasrc

import (
	"regexp"
	"strings"
	"testing"
)

// TestGatherSourceEmbedded: every gather.cu kernel is defined, directly or
// as an instance of the IBMB_ROW_KERNELS macro (which defines
// ibmb_gather_<W> and ibmb_scatter_<W>).
func TestGatherSourceEmbedded(t *testing.T) {
	src := Gather
	for _, m := range regexp.MustCompile(`(?m)^IBMB_ROW_KERNELS\((\d+), `).FindAllStringSubmatch(src, -1) {
		src += "\n" + rowKernelsDecl + "ibmb_gather_" + m[1] + "(" + "\n" + rowKernelsDecl + "ibmb_scatter_" + m[1] + "("
	}
	if !strings.Contains(Gather, rowKernelsDecl+"ibmb_gather_##W(") || !strings.Contains(Gather, rowKernelsDecl+"ibmb_scatter_##W(") {
		t.Error("gather.cu: IBMB_ROW_KERNELS does not define ibmb_gather_##W and ibmb_scatter_##W")
	}
	checkSource(t, "gather.cu", src, GatherKernels, rowKernelsDecl)
}

const rowKernelsDecl = `extern "C" __global__ void `

func TestPPRSourceEmbedded(t *testing.T) {
	checkSource(t, "ppr.cu", PPR, PPRKernels, `extern "C" __global__ void __launch_bounds__(IBMB_PPR_BLOCK, 8) `)
}

func checkSource(t *testing.T, file, src string, kernels []string, decl string) {
	t.Helper()
	if len(src) == 0 {
		t.Fatalf("%s is empty", file)
	}
	for i, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#include") {
			t.Errorf("%s:%d: %q: the source must be self-contained so NVRTC needs no headers", file, i+1, line)
		}
	}
	for _, k := range kernels {
		if !strings.Contains(src, decl+k+"(") {
			t.Errorf("kernel %s not defined as extern \"C\" __global__ in %s", k, file)
		}
	}
}
