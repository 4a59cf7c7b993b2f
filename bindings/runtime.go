package bindings

import (
	_ "embed"
	"runtime"
	"strings"
)

// versionFile is the one place that states the version: the engine reports
// it (python/ibmb gives it as ibmb.__version__) and pyproject.toml reads
// the same file for the package's metadata.
//
//go:embed VERSION
var versionFile string

// version is the engine version.
var version = strings.TrimSpace(versionFile)

// Version returns the engine version.
func Version() string { return version }

// NumThreads returns how many OS threads run Go code at once (GOMAXPROCS),
// which is the parallelism of every engine call.
func NumThreads() int { return runtime.GOMAXPROCS(0) }

// SetNumThreads sets GOMAXPROCS to n (n < 1 means all cores) and returns the
// previous value.
func SetNumThreads(n int) int {
	if n < 1 {
		n = runtime.NumCPU()
	}
	return runtime.GOMAXPROCS(n)
}
