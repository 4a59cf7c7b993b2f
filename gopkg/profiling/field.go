package profiling

import (
	"math"
	"strconv"
	"time"
)

// Field is one sampled quantity. Fields number the entries of
// Sample.Values, in this order; the names ([Field.String]) carry the unit.
type Field int

// The sampled fields, in column order.
const (
	GPUUtil    Field = iota // percent of NVML's sample period in which a kernel ran ("gpu_util")
	MemUtil                 // percent of the period in which device memory was read or written ("memory_util")
	MemUsed                 // device memory in use by all processes, bytes ("memory_used_bytes")
	MemTotal                // device memory, bytes ("memory_total_bytes")
	ProcessMem              // device memory used by this process, bytes ("process_memory_bytes")
	Power                   // power draw, watts ("power_w")
	Energy                  // energy used since Start, joules ("energy_j")
	SMClock                 // SM clock, MHz ("sm_clock_mhz")
	MemClock                // memory clock, MHz ("memory_clock_mhz")
	PCIeTX                  // PCIe transmit throughput, bytes/s ("pcie_tx_bytes_per_s")
	PCIeRX                  // PCIe receive throughput, bytes/s ("pcie_rx_bytes_per_s")

	// NumFields is the number of fields.
	NumFields
)

var fieldNames = [NumFields]string{
	GPUUtil:    "gpu_util",
	MemUtil:    "memory_util",
	MemUsed:    "memory_used_bytes",
	MemTotal:   "memory_total_bytes",
	ProcessMem: "process_memory_bytes",
	Power:      "power_w",
	Energy:     "energy_j",
	SMClock:    "sm_clock_mhz",
	MemClock:   "memory_clock_mhz",
	PCIeTX:     "pcie_tx_bytes_per_s",
	PCIeRX:     "pcie_rx_bytes_per_s",
}

// String returns the field's snake_case name with its unit, e.g.
// "memory_used_bytes"; "field(N)" for a number outside 0..NumFields-1.
func (f Field) String() string {
	if f < 0 || f >= NumFields {
		return "field(" + strconv.Itoa(int(f)) + ")"
	}
	return fieldNames[f]
}

// Sample is one reading of every field.
type Sample struct {
	// Time is the time since Start.
	Time time.Duration
	// Values holds one value per Field; NaN: not reported.
	Values [NumFields]float64
}

// Get returns the value of field f (NaN for an unknown field).
func (s Sample) Get(f Field) float64 {
	if f < 0 || f >= NumFields {
		return math.NaN()
	}
	return s.Values[f]
}
