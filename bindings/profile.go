package bindings

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/profiling"
	"github.com/ibmb-dev/ibmb/gopkg/profiling/profilingtest"
)

// GPU profiling through NVML (gopkg/profiling). Python starts a profiler
// with ProfileStart, stops it with ProfileStop, then reads its summary
// (ProfileSummary: one float64 per name of ProfileSummaryFields) and its
// series (ProfileSeriesCopy: a row-major [rows, len(ProfileSeriesFields)]
// float64 matrix), and frees the handle with Free. NaN means "not reported
// by the device". The two tables below are the one place that fixes the
// field order; Python reads the names from the engine.

// profileSummaryFields lists the summary's values in the order
// ProfileSummary writes them.
var profileSummaryFields = []struct {
	name string
	get  func(profiling.Summary) float64
}{
	{"duration_s", func(s profiling.Summary) float64 { return s.Duration.Seconds() }},
	{"samples", func(s profiling.Summary) float64 { return float64(s.Samples) }},
	{"memory_total_bytes", func(s profiling.Summary) float64 { return s.MemoryTotal }},
	{"start_memory_bytes", func(s profiling.Summary) float64 { return s.StartMemoryUsed }},
	{"peak_memory_bytes", func(s profiling.Summary) float64 { return s.PeakMemoryUsed }},
	{"peak_process_memory_bytes", func(s profiling.Summary) float64 { return s.PeakProcessMemory }},
	{"mean_gpu_util", func(s profiling.Summary) float64 { return s.MeanGPUUtil }},
	{"max_gpu_util", func(s profiling.Summary) float64 { return s.MaxGPUUtil }},
	{"mean_memory_util", func(s profiling.Summary) float64 { return s.MeanMemUtil }},
	{"max_memory_util", func(s profiling.Summary) float64 { return s.MaxMemUtil }},
	{"energy_j", func(s profiling.Summary) float64 { return s.EnergyJ }},
	{"energy_from_counter", func(s profiling.Summary) float64 { return b2f(s.EnergyFromCounter) }},
	{"mean_power_w", func(s profiling.Summary) float64 { return s.MeanPowerW }},
	{"max_power_w", func(s profiling.Summary) float64 { return s.MaxPowerW }},
	{"mean_sm_clock_mhz", func(s profiling.Summary) float64 { return s.MeanSMClockMHz }},
	{"max_sm_clock_mhz", func(s profiling.Summary) float64 { return s.MaxSMClockMHz }},
	{"mean_pcie_tx_bytes_per_s", func(s profiling.Summary) float64 { return s.MeanPCIeTX }},
	{"mean_pcie_rx_bytes_per_s", func(s profiling.Summary) float64 { return s.MeanPCIeRX }},
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// profileSeriesCols is the number of series columns: time_s, then one per
// profiling.Field in its order.
const profileSeriesCols = 1 + int(profiling.NumFields)

// profileFake, when set, makes ProfileStart and ProfileAvailable use
// profilingtest.Simple's scripted device instead of NVML.
var profileFake atomic.Bool

// profileRun is what a profiling handle holds.
type profileRun struct {
	p       *profiling.Profiler
	mu      sync.Mutex
	stopped bool
	sum     profiling.Summary
}

// Close releases NVML (Free calls it).
func (r *profileRun) Close() error { return r.p.Close() }

// ProfileAvailable returns "" when GPU profiling through NVML can run here,
// else the reason it cannot (e.g. "NVML unavailable: libnvidia-ml.so.1 not
// found: ...").
func ProfileAvailable() (reason string) {
	defer func() {
		if r := recover(); r != nil {
			reason = "NVML unavailable: panic while probing NVML"
		}
	}()
	if profileFake.Load() {
		return ""
	}
	if ok, why := profiling.Available(); !ok {
		return why
	}
	return ""
}

// ProfileUseFake switches ProfileStart and ProfileAvailable to a scripted
// fake device (on) or back to NVML (off). For tests of the Python layer on
// machines without a GPU; the fake's values are described at
// profilingtest.Simple.
func ProfileUseFake(on bool) { profileFake.Store(on) }

// ProfileSummaryFields returns the names of the values ProfileSummary
// writes, comma-separated, in order.
func ProfileSummaryFields() string {
	names := make([]string, len(profileSummaryFields))
	for i, f := range profileSummaryFields {
		names[i] = f.name
	}
	return strings.Join(names, ",")
}

// ProfileSeriesFields returns the names of the series columns,
// comma-separated, in order: time_s (seconds since start), then the
// sampled fields.
func ProfileSeriesFields() string {
	names := []string{"time_s"}
	for f := range profiling.NumFields {
		names = append(names, f.String())
	}
	return strings.Join(names, ",")
}

// ProfileStart starts sampling NVML device `device` every intervalMs
// milliseconds (0: 50 ms) on a background goroutine, reading PCIe
// throughput unless skipPCIe, and returns the profiler's handle. When NVML
// or the device is unavailable the error has kind unavailable and says why.
func ProfileStart(device int, intervalMs float64, skipPCIe bool) (h int, err error) {
	defer guard(&err)
	if math.IsNaN(intervalMs) || math.IsInf(intervalMs, 0) || intervalMs < 0 || intervalMs > 1e9 {
		return 0, argErr("sampling interval %v ms is not a finite, non-negative number of milliseconds below 1e9", intervalMs)
	}
	o := profiling.Options{Device: device, Interval: time.Duration(intervalMs * float64(time.Millisecond)), SkipPCIe: skipPCIe}
	if intervalMs > 0 && o.Interval == 0 {
		o.Interval = 1 // below the minimum: New reports it
	}
	if profileFake.Load() {
		o.NVML = profilingtest.Simple()
	}
	p, err := profiling.New(o)
	if err != nil {
		return 0, err
	}
	if err := p.Start(); err != nil {
		p.Close()
		return 0, err
	}
	return put(&profileRun{p: p}), nil
}

// ProfileStop takes a last sample, ends sampling of profiler h and
// releases NVML; the summary and series stay readable until Free. Stopping
// twice is not an error.
func ProfileStop(h int) (err error) {
	defer guard(&err)
	r, err := get[*profileRun](h)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sum, err := r.p.Stop()
	r.sum, r.stopped = sum, true
	return err
}

// ProfileSummary writes the summary of stopped profiler h at out: n
// float64 values, n being the number of ProfileSummaryFields, in that
// order.
func ProfileSummary(h int, out uintptr, n int) (err error) {
	defer guard(&err)
	r, err := get[*profileRun](h)
	if err != nil {
		return err
	}
	if n != len(profileSummaryFields) || out == 0 {
		return argErr("summary buffer: pointer %#x, length %d; want %d float64", out, n, len(profileSummaryFields))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		return fmt.Errorf("%w: profiler %d is still running: stop it first", profiling.ErrState, h)
	}
	o := unsafe.Slice((*float64)(ptr(out)), n)
	for i, f := range profileSummaryFields {
		o[i] = f.get(r.sum)
	}
	return nil
}

// ProfileSeriesLen returns the number of samples profiler h has taken so
// far.
func ProfileSeriesLen(h int) (n int, err error) {
	defer guard(&err)
	r, err := get[*profileRun](h)
	if err != nil {
		return 0, err
	}
	return len(r.p.Series()), nil
}

// ProfileSeriesCopy writes the first min(rows, samples) samples of profiler
// h at out as a row-major float64 matrix with one column per
// ProfileSeriesFields name, and returns the number of rows written. It may
// be called while the profiler runs.
func ProfileSeriesCopy(h int, out uintptr, rows int) (n int, err error) {
	defer guard(&err)
	r, err := get[*profileRun](h)
	if err != nil {
		return 0, err
	}
	if rows < 0 || (rows > 0 && out == 0) {
		return 0, argErr("series buffer: pointer %#x, %d rows", out, rows)
	}
	s := r.p.Series()
	n = min(rows, len(s))
	if n == 0 {
		return 0, nil
	}
	o := unsafe.Slice((*float64)(ptr(out)), n*profileSeriesCols)
	for i, smp := range s[:n] {
		row := o[i*profileSeriesCols : (i+1)*profileSeriesCols]
		row[0] = smp.Time.Seconds()
		copy(row[1:], smp.Values[:])
	}
	return n, nil
}

// ProfileDevice returns the product name of profiler h's device.
func ProfileDevice(h int) (name string, err error) {
	defer guard(&err)
	r, err := get[*profileRun](h)
	if err != nil {
		return "", err
	}
	return r.p.DeviceName(), nil
}
