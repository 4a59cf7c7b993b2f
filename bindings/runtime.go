package bindings

import "runtime"

// version is the engine version; python/ibmb reports it as ibmb.__version__.
const version = "0.1.0"

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
