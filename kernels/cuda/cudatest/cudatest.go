// Package cudatest builds the fake CUDA driver of kernels/cuda's tests
// (testdata/fakecuda: the real kernels of cuda/*.cu run on the CPU behind
// the driver API) for the tests of any package that dispatches to CUDA.
// Point IBMB_LIBCUDA at the library it returns, in a child process: the
// driver is loaded once per process.
package cudatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
)

// BuildFakeDriver compiles the fake driver into a temporary directory of
// tb and returns the shared library's path. It skips tb when no C++
// compiler is found and fails it when the build fails.
func BuildFakeDriver(tb testing.TB) string {
	tb.Helper()
	cxx := os.Getenv("CXX")
	if cxx == "" {
		for _, c := range []string{"g++", "c++", "clang++"} {
			if p, err := exec.LookPath(c); err == nil {
				cxx = p
				break
			}
		}
	}
	if cxx == "" {
		tb.Skip("skipping: no C++ compiler to build the fake driver")
	}
	dir := tb.TempDir()
	for name, src := range map[string]string{"gather.cu": cudasrc.Gather, "ppr.cu": cudasrc.PPR} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cudatest: cannot locate its source directory")
	}
	src := filepath.Join(filepath.Dir(self), "..", "testdata", "fakecuda", "fakecuda.cpp")
	so := filepath.Join(dir, "libfakecuda.so")
	// -Bsymbolic: the library's calls to its kernels (extern "C" names such
	// as ibmb_gather_check) bind to its own definitions, not to the CPU
	// kernels of csrc/ with the same names that a test binary exports.
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-g", "-shared", "-fPIC", "-Wl,-Bsymbolic", "-Wall", "-Wextra",
		"-Wno-unused-parameter", "-Wno-unused-function", "-Wno-unknown-pragmas", "-U_FORTIFY_SOURCE", "-I", dir, "-o", so, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the fake driver: %v\n%s", err, out)
	}
	return so
}
