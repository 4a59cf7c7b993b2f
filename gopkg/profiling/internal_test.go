//go:build cgo

package profiling

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// TestMissingLibraryPath loads NVML from a path that does not exist through
// the real go-nvml loader (as IBMB_NVML would) and checks the reason names
// the path and dlopen's message.
func TestMissingLibraryPath(t *testing.T) {
	const path = "/nonexistent/libnvidia-ml.so.1"
	lib := &systemNVML{lib: nvml.New(nvml.WithLibraryPath(path)), path: path}
	_, err := New(Options{NVML: lib})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("New: %v, want ErrUnavailable", err)
	}
	want := "NVML unavailable: " + path + " not found: " + path + ": cannot open shared object file"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if ok, reason := available(lib); ok || reason != err.Error() {
		t.Errorf("available = %v, %q; want false, %q", ok, reason, err)
	}
}

// panicNVML panics in Init, as a broken NVML binding might.
type panicNVML struct{ NVML }

func (panicNVML) Init() Return { panic("broken") }

func TestPanicInInit(t *testing.T) {
	if _, err := New(Options{NVML: panicNVML{}}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("New: %v, want ErrUnavailable naming the panic", err)
	}
	if ok, reason := available(panicNVML{}); ok || !strings.Contains(reason, "panic while probing NVML: broken") {
		t.Errorf("available = %v, %q", ok, reason)
	}
}

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	sample := func(t time.Duration, mem, util float64) Sample {
		s := Sample{Time: t}
		for i := range s.Values {
			s.Values[i] = nan
		}
		s.Values[MemUsed], s.Values[GPUUtil] = mem, util
		return s
	}
	tests := []struct {
		name                       string
		samples                    []Sample
		start, peak, mean, maxUtil float64
		duration                   time.Duration
	}{
		{"no samples", nil, nan, nan, nan, nan, 0},
		{"one sample", []Sample{sample(0, 5, 40)}, 5, 5, 40, 40, 0},
		// NaN entries are skipped: mean of 10 and 30 is 20; start is the first reported value.
		{"gaps", []Sample{sample(0, nan, nan), sample(time.Second, 7, 10), sample(2*time.Second, 3, nan),
			sample(3*time.Second, 9, 30)}, 7, 9, 20, 30, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := summarize("d", tc.samples, false)
			got := []float64{s.StartMemoryUsed, s.PeakMemoryUsed, s.MeanGPUUtil, s.MaxGPUUtil}
			want := []float64{tc.start, tc.peak, tc.mean, tc.maxUtil}
			for i := range got {
				if !(got[i] == want[i] || math.IsNaN(got[i]) && math.IsNaN(want[i])) {
					t.Errorf("stat %d = %v, want %v (summary %+v)", i, got[i], want[i], s)
				}
			}
			if s.Samples != len(tc.samples) || s.Duration != tc.duration || !math.IsNaN(s.EnergyJ) {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

// TestCodesMatchNVML: the codes nvml_types.go restates (so that builds
// without cgo have them) are go-nvml's.
func TestCodesMatchNVML(t *testing.T) {
	for _, c := range []struct{ ours, theirs Return }{
		{Success, nvml.SUCCESS}, {ErrorUninitialized, nvml.ERROR_UNINITIALIZED},
		{ErrorInvalidArgument, nvml.ERROR_INVALID_ARGUMENT}, {ErrorNotSupported, nvml.ERROR_NOT_SUPPORTED},
		{ErrorNoPermission, nvml.ERROR_NO_PERMISSION}, {ErrorDriverNotLoaded, nvml.ERROR_DRIVER_NOT_LOADED},
		{ErrorLibraryNotFound, nvml.ERROR_LIBRARY_NOT_FOUND}, {ErrorGPUIsLost, nvml.ERROR_GPU_IS_LOST},
		{ErrorUnknown, nvml.ERROR_UNKNOWN},
	} {
		if c.ours != c.theirs {
			t.Errorf("code %v is %d here, %d in go-nvml", c.theirs, c.ours, c.theirs)
		}
	}
	if ClockSM != nvml.CLOCK_SM || ClockMem != nvml.CLOCK_MEM || PcieUtilTxBytes != nvml.PCIE_UTIL_TX_BYTES || PcieUtilRxBytes != nvml.PCIE_UTIL_RX_BYTES {
		t.Error("clock or PCIe selectors differ from go-nvml's")
	}
}
