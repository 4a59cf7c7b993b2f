package profiling

import (
	"os"
	"strings"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/dl"
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// NVML is the part of the NVML library the profiler uses. Its methods have
// go-nvml's names and signatures, so the system library needs only a thin
// adapter and tests can substitute a scripted fake (package profilingtest).
type NVML interface {
	// Init opens the library (nvmlInit). Every successful Init is paired
	// with one Shutdown.
	Init() nvml.Return
	// Shutdown closes what Init opened (nvmlShutdown).
	Shutdown() nvml.Return
	// DeviceGetCount returns the number of NVIDIA devices.
	DeviceGetCount() (int, nvml.Return)
	// DeviceGetHandleByIndex returns device i (NVML's order).
	DeviceGetHandleByIndex(i int) (Device, nvml.Return)
}

// Device is the part of an NVML device handle the profiler reads. go-nvml's
// nvml.Device satisfies it. A method returning nvml.ERROR_NOT_SUPPORTED (or
// any other error) makes the matching fields NaN in that sample.
type Device interface {
	// GetName returns the product name.
	GetName() (string, nvml.Return)
	// GetUtilizationRates returns GPU and memory utilization in percent.
	GetUtilizationRates() (nvml.Utilization, nvml.Return)
	// GetMemoryInfo returns total, free and used device memory in bytes.
	GetMemoryInfo() (nvml.Memory, nvml.Return)
	// GetComputeRunningProcesses lists the processes with a compute context
	// on the device and their memory in bytes.
	GetComputeRunningProcesses() ([]nvml.ProcessInfo, nvml.Return)
	// GetPowerUsage returns the power draw in milliwatts.
	GetPowerUsage() (uint32, nvml.Return)
	// GetTotalEnergyConsumption returns the energy used since the driver
	// was loaded, in millijoules.
	GetTotalEnergyConsumption() (uint64, nvml.Return)
	// GetClockInfo returns the current clock of the given domain in MHz.
	GetClockInfo(nvml.ClockType) (uint32, nvml.Return)
	// GetPcieThroughput returns PCIe throughput in KB/s over a 20 ms window
	// (the call blocks for that window).
	GetPcieThroughput(nvml.PcieUtilCounter) (uint32, nvml.Return)
}

// defaultLibrary is the file name of NVML that is loaded unless IBMB_NVML
// names another.
const defaultLibrary = "libnvidia-ml.so.1"

// system is the process-wide NVML, created on first use. go-nvml counts
// Init/Shutdown pairs, so profilers share it.
var system = sync.OnceValue(func() NVML {
	path := os.Getenv("IBMB_NVML")
	if path == "" {
		path = defaultLibrary
	}
	return &systemNVML{lib: nvml.New(nvml.WithLibraryPath(path)), path: path}
})

// systemNVML adapts go-nvml's library to NVML.
type systemNVML struct {
	lib  nvml.Interface
	path string
}

func (s *systemNVML) Init() nvml.Return                  { return s.lib.Init() }
func (s *systemNVML) Shutdown() nvml.Return              { return s.lib.Shutdown() }
func (s *systemNVML) DeviceGetCount() (int, nvml.Return) { return s.lib.DeviceGetCount() }

func (s *systemNVML) DeviceGetHandleByIndex(i int) (Device, nvml.Return) {
	d, ret := s.lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS || d == nil {
		return nil, ret
	}
	return d, ret
}

// libraryName is the library's file name, for messages.
func (s *systemNVML) libraryName() string { return s.path }

// loadError says why the library cannot be opened: go-nvml reports only
// ERROR_LIBRARY_NOT_FOUND, so the library is opened once more here to
// read dlerror's message.
func (s *systemNVML) loadError() string {
	lib := dl.New(s.path, dl.RTLD_LAZY|dl.RTLD_LOCAL)
	if err := lib.Open(); err != nil {
		return err.Error()
	}
	_ = lib.Close()
	return ""
}

// unavailable turns a failed Init into an ErrUnavailable error whose
// message says why.
func unavailable(lib NVML, ret nvml.Return) error {
	name := defaultLibrary
	if n, ok := lib.(interface{ libraryName() string }); ok {
		name = n.libraryName()
	}
	switch ret {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		msg := name + " not found (is the NVIDIA driver installed?)"
		if l, ok := lib.(interface{ loadError() string }); ok {
			if why := l.loadError(); why != "" && !strings.Contains(msg, why) {
				msg = name + " not found: " + why
			}
		}
		return errorf(ErrUnavailable, "%s", msg)
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return errorf(ErrUnavailable, "the NVIDIA driver is not loaded")
	case nvml.ERROR_NO_PERMISSION:
		return errorf(ErrUnavailable, "no permission to use the NVIDIA driver")
	default:
		return errorf(ErrUnavailable, "nvmlInit failed: %s", retString(ret))
	}
}

// retString names an NVML return code.
func retString(ret nvml.Return) string { return ret.Error() }

// openDevice initializes lib and returns device index's handle. On error
// lib is shut down again and the error wraps ErrUnavailable.
func openDevice(lib NVML, index int) (Device, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, unavailable(lib, ret)
	}
	fail := func(err error) (Device, error) {
		lib.Shutdown()
		return nil, err
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return fail(errorf(ErrUnavailable, "cannot count NVIDIA devices: %s", retString(ret)))
	}
	if n == 0 {
		return fail(errorf(ErrUnavailable, "no NVIDIA device"))
	}
	if index >= n {
		return fail(errorf(ErrUnavailable, "device %d out of range (%d NVIDIA device(s))", index, n))
	}
	d, ret := lib.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS || d == nil {
		return fail(errorf(ErrUnavailable, "device %d: %s", index, retString(ret)))
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
			ok, reason = false, errorf(ErrUnavailable, "panic while probing NVML: %v", r).Error()
		}
	}()
	if _, err := openDevice(lib, 0); err != nil {
		return false, err.Error()
	}
	lib.Shutdown()
	return true, ""
}
