package cudasrc

import (
	"strings"
	"testing"
)

func TestGatherSourceEmbedded(t *testing.T) {
	if len(Gather) == 0 {
		t.Fatal("gather.cu is empty")
	}
	for i, line := range strings.Split(Gather, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#include") {
			t.Errorf("gather.cu:%d: %q: the source must be self-contained so NVRTC needs no headers", i+1, line)
		}
	}
	for _, k := range GatherKernels {
		if !strings.Contains(Gather, `extern "C" __global__ void `+k+"(") {
			t.Errorf("kernel %s not defined as extern \"C\" __global__ in gather.cu", k)
		}
	}
}
