package profiling

import (
	"strings"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

// NVML is the part of the NVML library the profiler uses. Its methods have
// go-nvml's names and signatures, so the system library needs only a thin
// adapter and tests can substitute a scripted fake (package profilingtest).
type NVML interface {
	// Init opens the library (nvmlInit). Every successful Init is paired
	// with one Shutdown.
	Init() Return
	// Shutdown closes what Init opened (nvmlShutdown).
	Shutdown() Return
	// DeviceGetCount returns the number of NVIDIA devices.
	DeviceGetCount() (int, Return)
	// DeviceGetHandleByIndex returns device i (NVML's order).
	DeviceGetHandleByIndex(i int) (Device, Return)
}

// Device is the part of an NVML device handle the profiler reads. go-nvml's
// nvml.Device satisfies it. A method returning ErrorNotSupported (or
// any other error) makes the matching fields NaN in that sample.
type Device interface {
	// GetName returns the product name.
	GetName() (string, Return)
	// GetUtilizationRates returns GPU and memory utilization in percent.
	GetUtilizationRates() (Utilization, Return)
	// GetMemoryInfo returns total, free and used device memory in bytes.
	GetMemoryInfo() (Memory, Return)
	// GetComputeRunningProcesses lists the processes with a compute context
	// on the device and their memory in bytes.
	GetComputeRunningProcesses() ([]ProcessInfo, Return)
	// GetPowerUsage returns the power draw in milliwatts.
	GetPowerUsage() (uint32, Return)
	// GetTotalEnergyConsumption returns the energy used since the driver
	// was loaded, in millijoules.
	GetTotalEnergyConsumption() (uint64, Return)
	// GetClockInfo returns the current clock of the given domain in MHz.
	GetClockInfo(ClockType) (uint32, Return)
	// GetPcieThroughput returns PCIe throughput in KB/s over a 20 ms window
	// (the call blocks for that window).
	GetPcieThroughput(PcieUtilCounter) (uint32, Return)
}

// unavailable turns a failed Init into an ErrUnavailable error whose
// message says why.
func unavailable(lib NVML, ret Return) error {
	name := defaultLibrary
	if n, ok := lib.(interface{ libraryName() string }); ok {
		name = n.libraryName()
	}
	switch ret {
	case ErrorLibraryNotFound:
		msg := name + " not found (is the NVIDIA driver installed?)"
		if l, ok := lib.(interface{ loadError() string }); ok {
			if why := l.loadError(); why != "" && !strings.Contains(msg, why) {
				msg = name + " not found: " + why
			}
		}
		return errs.Errorf(ErrUnavailable, "%s", msg)
	case ErrorDriverNotLoaded:
		return errs.Errorf(ErrUnavailable, "the NVIDIA driver is not loaded")
	case ErrorNoPermission:
		return errs.Errorf(ErrUnavailable, "no permission to use the NVIDIA driver")
	default:
		return errs.Errorf(ErrUnavailable, "nvmlInit failed: %s", retString(ret))
	}
}

// openDevice initializes lib and returns device index's handle. On error
// lib is shut down again and the error wraps ErrUnavailable.
func openDevice(lib NVML, index int) (Device, error) {
	if ret := lib.Init(); ret != Success {
		return nil, unavailable(lib, ret)
	}
	fail := func(err error) (Device, error) {
		lib.Shutdown()
		return nil, err
	}
	n, ret := lib.DeviceGetCount()
	if ret != Success {
		return fail(errs.Errorf(ErrUnavailable, "cannot count NVIDIA devices: %s", retString(ret)))
	}
	if n == 0 {
		return fail(errs.Errorf(ErrUnavailable, "no NVIDIA device"))
	}
	if index >= n {
		return fail(errs.Errorf(ErrUnavailable, "device %d out of range (%d NVIDIA device(s))", index, n))
	}
	d, ret := lib.DeviceGetHandleByIndex(index)
	if ret != Success || d == nil {
		return fail(errs.Errorf(ErrUnavailable, "device %d: %s", index, retString(ret)))
	}
	return d, nil
}

// Available reports whether the system's NVML loads and sees at least one
// NVIDIA device; when not, reason says why (e.g. "NVML unavailable:
// libnvidia-ml.so.1 not found: ..."). It opens and closes NVML and never
// panics.
func Available() (ok bool, reason string) {
	return available(system())
}

func available(lib NVML) (ok bool, reason string) {
	defer func() {
		if r := recover(); r != nil {
			ok, reason = false, errs.Errorf(ErrUnavailable, "panic while probing NVML: %v", r).Error()
		}
	}()
	if _, err := openDevice(lib, 0); err != nil {
		return false, err.Error()
	}
	lib.Shutdown()
	return true, ""
}
