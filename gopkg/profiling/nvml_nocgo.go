//go:build !cgo

package profiling

import "fmt"

// Without cgo, NVML cannot be loaded (go-nvml needs cgo): the system NVML
// reports ErrorLibraryNotFound, so profiling is unavailable with a message
// that says why, and fakes (package profilingtest) work as with cgo.

// NVML's types that the NVML and Device interfaces use, with go-nvml's
// layouts (with cgo they are go-nvml's own).
type (
	// Return is an NVML status code (nvmlReturn_t).
	Return int32
	// Utilization holds GPU and memory utilization in percent.
	Utilization struct{ Gpu, Memory uint32 }
	// Memory holds total, free and used device memory in bytes.
	Memory struct{ Total, Free, Used uint64 }
	// ProcessInfo describes a process with a context on a device.
	ProcessInfo struct {
		Pid               uint32
		UsedGpuMemory     uint64
		GpuInstanceId     uint32
		ComputeInstanceId uint32
	}
	// ClockType selects a clock domain.
	ClockType int32
	// PcieUtilCounter selects a PCIe direction.
	PcieUtilCounter int32
)

// Error names the code as go-nvml does for the codes the profiler uses.
func (r Return) Error() string {
	switch r {
	case Success:
		return "SUCCESS"
	case ErrorUninitialized:
		return "ERROR_UNINITIALIZED"
	case ErrorInvalidArgument:
		return "ERROR_INVALID_ARGUMENT"
	case ErrorNotSupported:
		return "ERROR_NOT_SUPPORTED"
	case ErrorNoPermission:
		return "ERROR_NO_PERMISSION"
	case ErrorDriverNotLoaded:
		return "ERROR_DRIVER_NOT_LOADED"
	case ErrorLibraryNotFound:
		return "ERROR_LIBRARY_NOT_FOUND"
	case ErrorGPUIsLost:
		return "ERROR_GPU_IS_LOST"
	case ErrorUnknown:
		return "ERROR_UNKNOWN"
	}
	return fmt.Sprintf("NVML error %d", int32(r))
}

// retString names an NVML return code.
func retString(ret Return) string { return ret.Error() }

// system is the NVML of a build without cgo: it cannot be loaded.
func system() NVML { return noNVML{} }

// noNVML is an NVML that is never found.
type noNVML struct{}

func (noNVML) Init() Return                                { return ErrorLibraryNotFound }
func (noNVML) Shutdown() Return                            { return ErrorUninitialized }
func (noNVML) DeviceGetCount() (int, Return)               { return 0, ErrorUninitialized }
func (noNVML) DeviceGetHandleByIndex(int) (Device, Return) { return nil, ErrorUninitialized }
func (noNVML) libraryName() string                         { return defaultLibrary }
func (noNVML) loadError() string                           { return "built without cgo, which go-nvml needs to load NVML" }
