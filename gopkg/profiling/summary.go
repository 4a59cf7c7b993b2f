package profiling

import (
	"math"
	"time"
)

// Summary condenses a run. Byte counts are float64 (exact below 2^53 bytes)
// so that NaN can say "not reported"; every statistic skips the samples in
// which its field was NaN and is NaN when all were.
type Summary struct {
	// Device is the device's product name ("" if NVML did not say).
	Device string
	// Duration is the time from Start to Stop.
	Duration time.Duration
	// Samples is the number of samples taken.
	Samples int
	// MemoryTotal is the device's memory in bytes.
	MemoryTotal float64
	// StartMemoryUsed is the device memory in use (all processes) at Start,
	// in bytes; PeakMemoryUsed - StartMemoryUsed is what the run added.
	StartMemoryUsed float64
	// PeakMemoryUsed is the most device memory in use (all processes) in
	// any sample, in bytes.
	PeakMemoryUsed float64
	// PeakProcessMemory is the most device memory this process used in any
	// sample, in bytes (0 if it never had a CUDA context on the device).
	PeakProcessMemory float64
	// MeanGPUUtil and MaxGPUUtil are the mean and maximum GPU utilization
	// over the samples, in percent.
	MeanGPUUtil, MaxGPUUtil float64
	// MeanMemUtil and MaxMemUtil are the same for memory utilization.
	MeanMemUtil, MaxMemUtil float64
	// EnergyJ is the energy used from Start to the last sample, in joules.
	EnergyJ float64
	// EnergyFromCounter is true when EnergyJ comes from the device's energy
	// counter, false when it integrates the power samples.
	EnergyFromCounter bool
	// MeanPowerW and MaxPowerW are the mean and maximum power samples, in
	// watts.
	MeanPowerW, MaxPowerW float64
	// MeanSMClockMHz and MaxSMClockMHz are the mean and maximum SM clock.
	MeanSMClockMHz, MaxSMClockMHz float64
	// MeanPCIeTX and MeanPCIeRX are the mean PCIe throughputs, bytes/s.
	MeanPCIeTX, MeanPCIeRX float64
}

// stats holds the mean, maximum and last value of one field over the
// samples that reported it (NaN for all three when none did).
type stats struct{ mean, max, first, last float64 }

func fieldStats(samples []Sample, f Field) stats {
	nan := math.NaN()
	st := stats{nan, nan, nan, nan}
	var sum float64
	n := 0
	for _, s := range samples {
		v := s.Values[f]
		if math.IsNaN(v) {
			continue
		}
		if n == 0 {
			st.first, st.max = v, v
		}
		st.max = math.Max(st.max, v)
		st.last = v
		sum += v
		n++
	}
	if n > 0 {
		st.mean = sum / float64(n)
	}
	return st
}

// summarize computes the Summary of samples; counter says where energy came
// from. Duration is the last sample's time.
func summarize(device string, samples []Sample, counter bool) Summary {
	s := Summary{Device: device, Samples: len(samples), EnergyFromCounter: counter}
	if len(samples) > 0 {
		s.Duration = samples[len(samples)-1].Time
	}
	mem := fieldStats(samples, MemUsed)
	s.StartMemoryUsed, s.PeakMemoryUsed = mem.first, mem.max
	s.MemoryTotal = fieldStats(samples, MemTotal).max
	s.PeakProcessMemory = fieldStats(samples, ProcessMem).max
	g := fieldStats(samples, GPUUtil)
	s.MeanGPUUtil, s.MaxGPUUtil = g.mean, g.max
	m := fieldStats(samples, MemUtil)
	s.MeanMemUtil, s.MaxMemUtil = m.mean, m.max
	s.EnergyJ = fieldStats(samples, Energy).last
	pw := fieldStats(samples, Power)
	s.MeanPowerW, s.MaxPowerW = pw.mean, pw.max
	c := fieldStats(samples, SMClock)
	s.MeanSMClockMHz, s.MaxSMClockMHz = c.mean, c.max
	s.MeanPCIeTX = fieldStats(samples, PCIeTX).mean
	s.MeanPCIeRX = fieldStats(samples, PCIeRX).mean
	return s
}
