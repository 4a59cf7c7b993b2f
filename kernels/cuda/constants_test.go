package cuda

import (
	"regexp"
	"strconv"
	"testing"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
)

// TestPPRConstantsMatchSource holds the Go constants that mirror #defines of
// cuda/ppr.cu to the values in the embedded source, so that editing one side
// alone fails here instead of corrupting the host/device protocol.
func TestPPRConstantsMatchSource(t *testing.T) {
	defines := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^#define (IBMB_PPR_\w+) +\(?(-?(?:0x[0-9a-fA-F]+|\d+))u?\)?`).
		FindAllStringSubmatch(cudasrc.PPR, -1) {
		v, err := strconv.ParseInt(m[2], 0, 64)
		if err != nil {
			t.Fatalf("#define %s %s: %v", m[1], m[2], err)
		}
		defines[m[1]] = v
	}
	bounds := regexp.MustCompile(`__launch_bounds__\(IBMB_PPR_BLOCK, (\d+)\)`).FindAllStringSubmatch(cudasrc.PPR, -1)
	if len(bounds) != len(cudasrc.PPRKernels) {
		t.Fatalf("%d kernels carry __launch_bounds__(IBMB_PPR_BLOCK, n), want all %d", len(bounds), len(cudasrc.PPRKernels))
	}
	for _, b := range bounds {
		minBlocks, _ := strconv.Atoi(b[1])
		if got := int64(pprWarpsPerSM); got != int64(minBlocks*pprWarpsPerBlock) {
			t.Errorf("pprWarpsPerSM = %d, but __launch_bounds__ promises %d blocks of %d warps", got, minBlocks, pprWarpsPerBlock)
		}
	}
	for _, c := range []struct {
		name string
		got  int64
	}{
		{"IBMB_PPR_BLOCK", pprBlock},
		{"IBMB_PPR_CTRL_WORDS", pprCtrlWords},
		{"IBMB_PPR_PENDING", pprPending},
		{"IBMB_PPR_DONE", pprDone},
		{"IBMB_PPR_OVERFLOW", pprOverflow},
		{"IBMB_PPR_DEFERRED", pprDeferred},
		{"IBMB_PPR_POOL_USED", ctrlPoolUsed},
		{"IBMB_PPR_PUSHES", ctrlPushes},
		{"IBMB_PPR_EDGES", ctrlEdges},
	} {
		want, ok := defines[c.name]
		if !ok {
			t.Errorf("cuda/ppr.cu no longer defines %s", c.name)
			continue
		}
		if c.got != want {
			t.Errorf("Go mirrors %s as %d, cuda/ppr.cu defines %d", c.name, c.got, want)
		}
	}
}
