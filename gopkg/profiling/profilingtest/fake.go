// Package profilingtest provides a scripted stand-in for NVML, so that
// code using package profiling can be tested, and its examples run, on
// machines without an NVIDIA GPU.
//
// A [Device] replays a script of [Reading]s: the k-th call of each of its
// methods answers from Script[k] (the last reading repeats once the script
// runs out), so the k-th sample a profiler takes sees Script[k] in every
// field. Methods named in Unsupported answer profiling.ErrorNotSupported.
package profilingtest

import (
	"fmt"
	"os"
	"sync"

	"github.com/ibmb-dev/ibmb/gopkg/profiling"
)

// Reading is what a fake device reports in one sample, in NVML's units.
type Reading struct {
	GPUUtil, MemUtil   uint32 // percent
	MemUsed            uint64 // bytes, all processes
	ProcessMem         uint64 // bytes used by the calling process (0: not listed)
	PowerMW            uint32 // milliwatts
	EnergyMJ           uint64 // energy counter, millijoules
	SMClock, MemClock  uint32 // MHz
	PCIeTXKB, PCIeRXKB uint32 // KB/s
	Panic              bool   // GetUtilizationRates panics (to test recovery)
}

// NVML is a fake NVML library holding fake devices. InitReturn, when not
// SUCCESS (the zero value), is what Init answers; CountReturn likewise for
// DeviceGetCount. Its methods are safe for concurrent use.
type NVML struct {
	Devices     []*Device
	InitReturn  profiling.Return
	CountReturn profiling.Return

	mu    sync.Mutex
	inits int
}

var _ profiling.NVML = (*NVML)(nil)

// Init counts an initialization unless InitReturn says it fails.
func (l *NVML) Init() profiling.Return {
	if l.InitReturn != profiling.Success {
		return l.InitReturn
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inits++
	return profiling.Success
}

// Shutdown undoes one Init; it answers ERROR_UNINITIALIZED when there is
// none to undo.
func (l *NVML) Shutdown() profiling.Return {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inits == 0 {
		return profiling.ErrorUninitialized
	}
	l.inits--
	return profiling.Success
}

// Open returns the number of Inits not yet shut down (0 when every user
// released the library).
func (l *NVML) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inits
}

// DeviceGetCount returns len(Devices).
func (l *NVML) DeviceGetCount() (int, profiling.Return) {
	if l.CountReturn != profiling.Success {
		return 0, l.CountReturn
	}
	return len(l.Devices), profiling.Success
}

// DeviceGetHandleByIndex returns Devices[i].
func (l *NVML) DeviceGetHandleByIndex(i int) (profiling.Device, profiling.Return) {
	if i < 0 || i >= len(l.Devices) {
		return nil, profiling.ErrorInvalidArgument
	}
	return l.Devices[i], profiling.Success
}

// Device is a fake device replaying Script.
type Device struct {
	Name        string
	MemoryTotal uint64 // bytes
	Script      []Reading
	// Unsupported holds the names of methods (e.g.
	// "GetTotalEnergyConsumption") that answer ERROR_NOT_SUPPORTED.
	Unsupported map[string]bool
	// Pid is the process id listed with ProcessMem (0: this process).
	Pid int

	mu    sync.Mutex
	calls map[string]int
}

var _ profiling.Device = (*Device)(nil)

// next returns the reading for the next call of method (false when the
// method is unsupported).
func (d *Device) next(method string) (Reading, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.calls == nil {
		d.calls = map[string]int{}
	}
	k := d.calls[method]
	d.calls[method] = k + 1
	if d.Unsupported[method] || len(d.Script) == 0 {
		return Reading{}, false
	}
	return d.Script[min(k, len(d.Script)-1)], true
}

// Calls returns how many times method was called.
func (d *Device) Calls(method string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[method]
}

// GetName returns Name.
func (d *Device) GetName() (string, profiling.Return) {
	if d.Unsupported["GetName"] {
		return "", profiling.ErrorNotSupported
	}
	return d.Name, profiling.Success
}

// GetUtilizationRates returns the reading's utilizations.
func (d *Device) GetUtilizationRates() (profiling.Utilization, profiling.Return) {
	r, ok := d.next("GetUtilizationRates")
	if r.Panic {
		panic(fmt.Sprintf("profilingtest: scripted panic in %s", "GetUtilizationRates"))
	}
	if !ok {
		return profiling.Utilization{}, profiling.ErrorNotSupported
	}
	return profiling.Utilization{Gpu: r.GPUUtil, Memory: r.MemUtil}, profiling.Success
}

// GetMemoryInfo returns MemoryTotal and the reading's MemUsed.
func (d *Device) GetMemoryInfo() (profiling.Memory, profiling.Return) {
	r, ok := d.next("GetMemoryInfo")
	if !ok {
		return profiling.Memory{}, profiling.ErrorNotSupported
	}
	return profiling.Memory{Total: d.MemoryTotal, Used: r.MemUsed, Free: d.MemoryTotal - min(r.MemUsed, d.MemoryTotal)}, profiling.Success
}

// GetComputeRunningProcesses lists another process using 1 GiB and, when
// the reading's ProcessMem is not 0, process Pid (default: the caller).
func (d *Device) GetComputeRunningProcesses() ([]profiling.ProcessInfo, profiling.Return) {
	r, ok := d.next("GetComputeRunningProcesses")
	if !ok {
		return nil, profiling.ErrorNotSupported
	}
	pid := d.Pid
	if pid == 0 {
		pid = os.Getpid()
	}
	procs := []profiling.ProcessInfo{{Pid: uint32(pid) + 1, UsedGpuMemory: 1 << 30}}
	if r.ProcessMem != 0 {
		procs = append(procs, profiling.ProcessInfo{Pid: uint32(pid), UsedGpuMemory: r.ProcessMem})
	}
	return procs, profiling.Success
}

// GetPowerUsage returns the reading's PowerMW.
func (d *Device) GetPowerUsage() (uint32, profiling.Return) {
	r, ok := d.next("GetPowerUsage")
	if !ok {
		return 0, profiling.ErrorNotSupported
	}
	return r.PowerMW, profiling.Success
}

// GetTotalEnergyConsumption returns the reading's EnergyMJ.
func (d *Device) GetTotalEnergyConsumption() (uint64, profiling.Return) {
	r, ok := d.next("GetTotalEnergyConsumption")
	if !ok {
		return 0, profiling.ErrorNotSupported
	}
	return r.EnergyMJ, profiling.Success
}

// GetClockInfo returns the reading's SM or memory clock.
func (d *Device) GetClockInfo(c profiling.ClockType) (uint32, profiling.Return) {
	return readOne(d, "GetClockInfo", clockFields, c)
}

// GetPcieThroughput returns the reading's PCIe throughput (without the
// real call's 20 ms wait).
func (d *Device) GetPcieThroughput(c profiling.PcieUtilCounter) (uint32, profiling.Return) {
	return readOne(d, "GetPcieThroughput", pcieFields, c)
}

// readingField is the field of a Reading that one selector of a call
// answers with, and the selector's name in the call log.
type readingField struct {
	arg string
	get func(Reading) uint32
}

var (
	clockFields = map[profiling.ClockType]readingField{
		profiling.ClockSM:  {"SM", func(r Reading) uint32 { return r.SMClock }},
		profiling.ClockMem: {"MEM", func(r Reading) uint32 { return r.MemClock }},
	}
	pcieFields = map[profiling.PcieUtilCounter]readingField{
		profiling.PcieUtilTxBytes: {"TX", func(r Reading) uint32 { return r.PCIeTXKB }},
		profiling.PcieUtilRxBytes: {"RX", func(r Reading) uint32 { return r.PCIeRXKB }},
	}
)

// readOne answers method for selector k with its field of fields, or
// ErrorInvalidArgument for a selector the fake does not know.
func readOne[K comparable](d *Device, method string, fields map[K]readingField, k K) (uint32, profiling.Return) {
	f, ok := fields[k]
	if !ok {
		return 0, profiling.ErrorInvalidArgument
	}
	return d.read(method, f.arg, f.get)
}

// read answers method(arg) with one field of the next reading, or
// ErrorNotSupported when the script has ended or method is unsupported.
func (d *Device) read(method, arg string, field func(Reading) uint32) (uint32, profiling.Return) {
	r, ok := d.next(method + "(" + arg + ")")
	if !ok || d.Unsupported[method] {
		return 0, profiling.ErrorNotSupported
	}
	return field(r), profiling.Success
}

// Simple returns a fake NVML with one device ("Fake GPU", 16 GiB) whose
// script ramps from an idle first reading to a busy second one that then
// repeats: 1 GiB → 5 GiB used (the process: 0 → 3 GiB), 0 → 80 % GPU
// utilization, 60 → 300 W. The energy counter is unsupported, so energy is
// integrated from power. Samples after the first all see the busy reading,
// so peaks and maxima do not depend on how many samples a run takes.
func Simple() *NVML {
	const gib = 1 << 30
	return &NVML{Devices: []*Device{{
		Name:        "Fake GPU",
		MemoryTotal: 16 * gib,
		Script: []Reading{
			{GPUUtil: 0, MemUtil: 0, MemUsed: 1 * gib, ProcessMem: 0, PowerMW: 60000, SMClock: 210, MemClock: 1593},
			{GPUUtil: 80, MemUtil: 40, MemUsed: 5 * gib, ProcessMem: 3 * gib, PowerMW: 300000, SMClock: 1980, MemClock: 1593,
				PCIeTXKB: 1000, PCIeRXKB: 2000},
		},
		Unsupported: map[string]bool{"GetTotalEnergyConsumption": true},
	}}}
}
