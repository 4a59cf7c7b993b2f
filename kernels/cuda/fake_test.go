package cuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/cuda/cudatest"
)

// The driver is loaded once per process, so tests that need a different
// driver (a fake one, or none) run this test binary again as a child
// process with IBMB_LIBCUDA pointing elsewhere.
//
// testdata/fakecuda/fakecuda.cpp is a fake libcuda.so.1 that runs the real
// kernels of cuda/gather.cu on the CPU (compiled as C++ with a small
// emulation of the CUDA built-ins). With it, the GPU tests exercise the
// whole host path of Gather and the kernels' indexing on machines without a
// GPU. It needs a C++ compiler and NVRTC (the module is still compiled).

const childEnv = "IBMB_CUDA_TEST_CHILD"

func skipInChild(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child process")
	}
}

// runChild runs the tests matching pattern in a child process with extra
// environment variables and returns its verbose output.
func runChild(t *testing.T, pattern string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^("+pattern+")$", "-test.v", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %v with %v failed: %v\n%s", pattern, env, err, out)
	}
	return string(out)
}

// expectPassed checks that each named test ran and passed (not skipped).
func expectPassed(t *testing.T, out string, tests ...string) {
	t.Helper()
	for _, name := range tests {
		if !strings.Contains(out, "--- PASS: "+name+" ") {
			t.Errorf("child: %s did not pass:\n%s", name, out)
		}
	}
}

func buildFakeDriver(t *testing.T) string { return cudatest.BuildFakeDriver(t) }

var gpuTests = []string{
	"TestAvailable", "TestDeviceGPU", "TestPrepareGPU", "TestGatherGPU",
	"TestRowsBadIndexGPU", "TestGatherConcurrentGPU", "TestMemcpyBandwidthGPU",
	"TestScatterGPU", "TestScatterArgs", "TestMemoryGPU",
}

func TestFakeDriver(t *testing.T) {
	skipInChild(t)
	requireNVRTC(t)
	so := buildFakeDriver(t)
	archs, err := SupportedArchs()
	if err != nil {
		t.Fatal(err)
	}
	top := archs[len(archs)-1]
	for _, c := range []struct {
		name string
		env  []string
	}{
		// sm_90 device: CUBIN for sm_90 is loaded directly.
		{"cc90-cubin", []string{"IBMB_FAKE_CC=90", "IBMB_EXPECT_MODULE=90/cubin"}},
		// The driver refuses the CUBIN: fall back to PTX.
		{"cc90-ptx-fallback", []string{"IBMB_FAKE_CC=90", "IBMB_FAKE_REJECT_CUBIN=1", "IBMB_EXPECT_MODULE=90/ptx"}},
		// A device newer than anything NVRTC knows: PTX of the newest arch.
		{"future-device-ptx", []string{"IBMB_FAKE_CC=250", "IBMB_EXPECT_MODULE=" + strconv.Itoa(top) + "/ptx"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := append([]string{"IBMB_LIBCUDA=" + so, "IBMB_CACHE_DIR=" + t.TempDir()}, c.env...)
			out := runChild(t, strings.Join(gpuTests, "|"), env...)
			expectPassed(t, out, gpuTests...)
			if testing.Verbose() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}

func TestFakeDriverNoDevice(t *testing.T) {
	skipInChild(t)
	so := buildFakeDriver(t)
	out := runChild(t, "TestAvailable|TestNoGPUCallsFailCleanly",
		"IBMB_LIBCUDA="+so, "IBMB_FAKE_NODEV=1",
		"IBMB_EXPECT_UNAVAILABLE=cuda unavailable: cuInit failed: CUDA_ERROR_NO_DEVICE")
	expectPassed(t, out, "TestAvailable", "TestNoGPUCallsFailCleanly")
}

func TestMissingDriver(t *testing.T) {
	skipInChild(t)
	missing := filepath.Join(t.TempDir(), "libcuda.so.1")
	out := runChild(t, "TestAvailable|TestNoGPUCallsFailCleanly",
		"IBMB_LIBCUDA="+missing,
		"IBMB_EXPECT_UNAVAILABLE=cuda unavailable: cannot load IBMB_LIBCUDA="+missing)
	expectPassed(t, out, "TestAvailable", "TestNoGPUCallsFailCleanly")
}

func TestMissingNVRTC(t *testing.T) {
	skipInChild(t)
	dir := t.TempDir()
	out := runChild(t, "TestAvailable|TestCompilePTX|TestNVRTCMissingChild",
		"IBMB_NVRTC=", "IBMB_NVRTC_DIRS="+dir, "LD_LIBRARY_PATH="+dir, "IBMB_REQUIRE_NVRTC=", "IBMB_EXPECT_NVRTC_MISSING=1")
	if !strings.Contains(out, "--- PASS: TestNVRTCMissingChild") {
		t.Skipf("a system NVRTC is installed, cannot simulate its absence:\n%s", out)
	}
	if !strings.Contains(out, "--- SKIP: TestCompilePTX") || !strings.Contains(out, "NVRTC not found") {
		t.Errorf("TestCompilePTX did not skip with a clear message:\n%s", out)
	}
}

// TestNVRTCMissingChild runs in TestMissingNVRTC's child process.
func TestNVRTCMissingChild(t *testing.T) {
	if os.Getenv("IBMB_EXPECT_NVRTC_MISSING") == "" {
		t.Skip("only runs as a child of TestMissingNVRTC")
	}
	_, _, err := NVRTCVersion()
	if err == nil {
		t.Skip("NVRTC found through the system library path")
	}
	for _, want := range []string{"nvrtc unavailable: no libnvrtc found", "IBMB_NVRTC", "pip install nvidia-cuda-nvrtc-cu12", "no libnvrtc.so* in"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := CompilePTX("", "x.cu", 80); err == nil || !strings.HasPrefix(err.Error(), "nvrtc unavailable: ") {
		t.Errorf("CompilePTX without NVRTC: %v", err)
	}
	t.Logf("%v", err)
}

// TestNVRTCDiscovery checks that NVRTC is found through IBMB_NVRTC_DIRS
// (the way the Python layer points at pip's nvidia-cuda-nvrtc wheels) and
// through IBMB_NVRTC, in child processes.
func TestNVRTCDiscovery(t *testing.T) {
	skipInChild(t)
	requireNVRTC(t)
	lib, _ := NVRTCLibrary()
	dir := filepath.Dir(lib)
	empty := t.TempDir()
	out := runChild(t, "TestNVRTCInfo|TestCompilePTX",
		"IBMB_NVRTC=", "IBMB_NVRTC_DIRS="+empty+":"+dir, "IBMB_REQUIRE_NVRTC=1")
	expectPassed(t, out, "TestNVRTCInfo", "TestCompilePTX")
	if !strings.Contains(out, dir) {
		t.Errorf("child did not report NVRTC from %s:\n%s", dir, out)
	}
	out = runChild(t, "TestNVRTCInfo", "IBMB_NVRTC="+lib, "IBMB_NVRTC_DIRS=", "IBMB_REQUIRE_NVRTC=1")
	expectPassed(t, out, "TestNVRTCInfo")

	// A wrong IBMB_NVRTC is reported as such, not silently replaced.
	out = runChild(t, "TestNVRTCBadPathChild", "IBMB_NVRTC="+filepath.Join(empty, "libnvrtc.so.99"), "IBMB_EXPECT_NVRTC_BAD=1")
	expectPassed(t, out, "TestNVRTCBadPathChild")
}

// TestNVRTCBadPathChild runs in TestNVRTCDiscovery's child process.
func TestNVRTCBadPathChild(t *testing.T) {
	if os.Getenv("IBMB_EXPECT_NVRTC_BAD") == "" {
		t.Skip("only runs as a child of TestNVRTCDiscovery")
	}
	_, _, err := NVRTCVersion()
	if err == nil || !strings.Contains(err.Error(), "nvrtc unavailable: cannot load IBMB_NVRTC=") {
		t.Fatalf("NVRTCVersion() with a bad IBMB_NVRTC: %v", err)
	}
	t.Log(err)
}

var pprGPUTests = []string{
	"TestPPRPushGPU", "TestPPRIsolatedSeedGPU", "TestPPRDirectedGPU", "TestPPRSetWiseGPU", "TestPPROverflowGPU",
	"TestPPRWavesGPU", "TestPPRGraphCacheGPU", "TestPPRConcurrentGPU", "TestPPRCancelGPU",
}

// TestFakeDriverPPR runs the PPR kernels on the fake driver: with the sm_90
// CUBIN, and with the PTX path under a different preemption schedule.
func TestFakeDriverPPR(t *testing.T) {
	skipInChild(t)
	requireNVRTC(t)
	so := buildFakeDriver(t)
	for _, c := range []struct {
		name string
		env  []string
		run  []string
	}{
		{"cc90-cubin", []string{"IBMB_FAKE_CC=90"}, pprGPUTests},
		{"cc80-ptx-preempt2", []string{"IBMB_FAKE_CC=80", "IBMB_FAKE_REJECT_CUBIN=1", "IBMB_FAKE_SEED=7", "IBMB_FAKE_PREEMPT=2"},
			[]string{"TestPPRPushGPU", "TestPPRSetWiseGPU", "TestPPROverflowGPU"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := append([]string{"IBMB_LIBCUDA=" + so, "IBMB_CACHE_DIR=" + t.TempDir()}, c.env...)
			out := runChild(t, strings.Join(c.run, "|"), env...)
			expectPassed(t, out, c.run...)
			if testing.Verbose() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}
