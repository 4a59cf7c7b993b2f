package cudasrc

import (
	"strings"
	"testing"
)

func TestGatherSourceEmbedded(t *testing.T) {
	checkSource(t, "gather.cu", Gather, GatherKernels, `extern "C" __global__ void `)
}

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
