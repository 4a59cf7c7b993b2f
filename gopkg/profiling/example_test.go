package profiling_test

import (
	"fmt"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/profiling"
	"github.com/ibmb-dev/ibmb/gopkg/profiling/profilingtest"
)

// Profile a piece of work. The example uses profilingtest's scripted fake
// device so that its output is the same on every machine; leave NVML nil to
// sample the real GPU.
func Example() {
	p, err := profiling.New(profiling.Options{Device: 0, Interval: 10 * time.Millisecond, NVML: profilingtest.Simple()})
	if err != nil {
		fmt.Println(err) // e.g. "NVML unavailable: libnvidia-ml.so.1 not found: ..."
		return
	}
	if err := p.Start(); err != nil {
		fmt.Println(err)
		return
	}
	time.Sleep(30 * time.Millisecond) // the work
	sum, err := p.Stop()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("device %s: peak memory %.0f GiB of %.0f GiB (this process %.0f GiB), GPU utilization up to %.0f%%, power up to %.0f W\n",
		sum.Device, sum.PeakMemoryUsed/(1<<30), sum.MemoryTotal/(1<<30), sum.PeakProcessMemory/(1<<30), sum.MaxGPUUtil, sum.MaxPowerW)
	fmt.Println("samples:", sum.Samples >= 2, len(p.Series()) == sum.Samples)
	// Output:
	// device Fake GPU: peak memory 5 GiB of 16 GiB (this process 3 GiB), GPU utilization up to 80%, power up to 300 W
	// samples: true true
}

// Check whether the GPU can be profiled here; on a machine without an
// NVIDIA driver the reason says why.
func ExampleAvailable() {
	if ok, reason := profiling.Available(); !ok {
		fmt.Println("no GPU profiling:", reason)
	}
}
