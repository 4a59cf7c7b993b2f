//go:build cgo

package pprcuda_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
	"github.com/ibmb-dev/ibmb/gopkg/ppr/pprcuda"
	"github.com/ibmb-dev/ibmb/kernels/cuda"
	"github.com/ibmb-dev/ibmb/kernels/cuda/cudatest"
)

// The CUDA driver is loaded once per process, so each case runs this test
// binary again with IBMB_LIBCUDA set and IBMB_PPRCUDA_EXPECT saying what
// TestDispatchChild should see.
const expectEnv = "IBMB_PPRCUDA_EXPECT"

func runChild(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDispatchChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDispatchChild") {
		t.Fatalf("child with %v: %v\n%s", env, err, out)
	}
	return string(out)
}

// TestDispatch: importing pprcuda makes a CUDA push in gopkg/ppr run on
// the device through kernels/cuda when a driver loads (here the fake one,
// which runs the real kernels on the CPU), and fail with an unavailable
// error when none does.
func TestDispatch(t *testing.T) {
	if os.Getenv(expectEnv) != "" {
		t.Skip("child process")
	}
	t.Run("missing driver", func(t *testing.T) {
		runChild(t, expectEnv+"=unavailable", "IBMB_LIBCUDA="+filepath.Join(t.TempDir(), "libcuda.so.1"))
	})
	t.Run("fake driver", func(t *testing.T) {
		if _, _, err := cuda.NVRTCVersion(); err != nil {
			if os.Getenv("IBMB_REQUIRE_NVRTC") == "1" {
				t.Fatalf("IBMB_REQUIRE_NVRTC=1 but NVRTC is not usable: %v", err)
			}
			t.Skipf("skipping: NVRTC not found (%v)", err)
		}
		so := cudatest.BuildFakeDriver(t)
		runChild(t, expectEnv+"=device", "IBMB_LIBCUDA="+so, "IBMB_FAKE_CC=90", "IBMB_CACHE_DIR="+t.TempDir())
	})
}

// counting forwards to pprcuda's backend and counts the calls.
type counting struct{ calls int }

func (c *counting) Push(ctx context.Context, o int, g *graph.CSR, p, n []int64, opt ppr.DeviceOptions) (*ppr.DeviceResult, error) {
	c.calls++
	return pprcuda.Backend{}.Push(ctx, o, g, p, n, opt)
}

// TestDispatchChild runs in TestDispatch's child processes.
func TestDispatchChild(t *testing.T) {
	want := os.Getenv(expectEnv)
	if want == "" {
		t.Skip("only runs as a child of TestDispatch")
	}
	if _, ok := ppr.SetCUDABackend(nil).(pprcuda.Backend); !ok {
		t.Fatal("importing pprcuda did not register its backend")
	}
	b := &counting{}
	ppr.SetCUDABackend(b)
	var src, dst []int64
	for v := range int64(400) {
		for _, d := range []int64{1, 7, 31} {
			src, dst = append(src, v), append(dst, (v*d+d*d)%400)
		}
	}
	g, err := graph.FromCOO(src, dst, 400, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	targets := []int64{0, 7, 99, 250, 399}
	opt := ppr.Options{Alpha: 0.25, Eps: 1e-4, TopK: 0}
	cpu, _, err := ppr.NodeWise(g, targets, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Device = ppr.Device{CUDA: true}
	res, st, err := ppr.NodeWise(g, targets, opt)
	if b.calls != 1 {
		t.Fatalf("backend called %d times", b.calls)
	}
	switch want {
	case "unavailable":
		if !errors.Is(err, errs.Unavailable) || !errors.Is(err, cuda.ErrUnavailable) {
			t.Fatalf("want cuda's unavailable error, got %v", err)
		}
		t.Log(err)
	case "device":
		if err != nil {
			t.Fatal(err)
		}
		if st.Pushes == 0 || res.NumRows() != len(targets) {
			t.Fatalf("stats %+v, %d rows", st, res.NumRows())
		}
		// Same guarantee as the CPU's: each estimate is within
		// eps·deg(v) below the exact value, so the two differ by at most
		// that much.
		for i, tgt := range targets {
			exact, err := ppr.Exact(g, []int64{tgt}, opt.Alpha, 1e-12)
			if err != nil {
				t.Fatal(err)
			}
			nodes, scores := res.Row(i)
			if len(nodes) == 0 {
				t.Fatalf("row %d empty", i)
			}
			for j, v := range nodes {
				deg := float64(g.Indptr[v+1] - g.Indptr[v])
				if d := exact[v] - float64(scores[j]); d < -1e-6 || d > opt.Eps*deg+1e-6 {
					t.Errorf("row %d node %d: estimate %g, exact %g", i, v, scores[j], exact[v])
				}
			}
			if cn, _ := cpu.Row(i); len(cn) == 0 {
				t.Fatalf("cpu row %d empty", i)
			}
		}
	default:
		t.Fatalf("unknown %s=%q", expectEnv, want)
	}
}
