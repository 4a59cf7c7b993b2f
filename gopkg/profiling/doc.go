// Package profiling samples an NVIDIA GPU through NVML while a job runs:
// utilization, memory (the device's and this process's), power, energy,
// clocks and PCIe throughput, as a time series plus a [Summary].
//
// NVML (libnvidia-ml.so.1, part of the NVIDIA driver) is loaded at run time
// by github.com/NVIDIA/go-nvml, so the package builds, links and runs on
// machines without a GPU or driver; there [New] and [Available] report why
// profiling is not possible instead of failing.
//
// Use:
//
//	p, err := profiling.New(profiling.Options{Device: 0, Interval: 50 * time.Millisecond})
//	if errors.Is(err, profiling.ErrUnavailable) { /* no GPU here: err says why */ }
//	if err := p.Start(); err != nil { ... }
//	... the job ...
//	sum, err := p.Stop()
//	series := p.Series()
//
// Invariants:
//   - A [Profiler] records one run: New → Start → Stop. Start on a running
//     or finished profiler and Stop before Start return an error wrapping
//     [ErrState] and change nothing. A second Stop returns the first Stop's
//     summary again. [Profiler.Close] releases NVML whatever the state and
//     may be called any number of times.
//   - Samples are taken at Start, then every Interval on a background
//     goroutine, and once more at Stop, so a run has at least two samples.
//     Sample times are durations since Start and strictly increasing in
//     practice (they come from the monotonic clock). When a sample takes
//     longer than Interval (PCIe reads block about 20 ms each) ticks are
//     dropped, never queued.
//   - Every value is a float64 in the unit its [Field] names. NaN means the
//     device did not report it (not supported, no permission, a failed
//     read); a summary statistic is NaN when no sample reported its field.
//     Energy is counted from Start: from the device's energy counter when it
//     has one (Volta and newer), else by integrating power over time
//     (trapezoids between successive power readings).
//   - Failures are returned as errors, never panics: [ErrUnavailable] when
//     NVML or the device cannot be used (the message says why), [ErrValue]
//     for bad options, [ErrState] for calls out of order, [ErrNVML] when NVML
//     fails after it was opened. A panic while sampling (a broken [NVML]
//     implementation) is recovered and returned by Stop.
//   - All methods are safe for concurrent use; [Profiler.Series] may be read
//     while sampling runs.
//   - Device is NVML's device index (nvidia-smi's order). CUDA numbers
//     devices fastest-first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, and
//     CUDA_VISIBLE_DEVICES does not apply to NVML, so the two indices can
//     differ.
//   - NVML is reached through the small [NVML] and [Device] interfaces;
//     Options.NVML replaces the system library (package profilingtest has a
//     scripted fake for tests and examples).
//
// The environment variable IBMB_NVML names the NVML library to load instead
// of libnvidia-ml.so.1.
package profiling
