//go:build cgo

package profiling

import (
	"os"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/dl"
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

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

// retString names an NVML return code.
func retString(ret Return) string { return ret.Error() }

// NVML's types and codes that the NVML and Device interfaces use. With cgo
// they are go-nvml's own, so its library and devices satisfy the
// interfaces as they are.
type (
	// Return is an NVML status code (nvmlReturn_t).
	Return = nvml.Return
	// Utilization holds GPU and memory utilization in percent.
	Utilization = nvml.Utilization
	// Memory holds total, free and used device memory in bytes.
	Memory = nvml.Memory
	// ProcessInfo describes a process with a context on a device.
	ProcessInfo = nvml.ProcessInfo
	// ClockType selects a clock domain.
	ClockType = nvml.ClockType
	// PcieUtilCounter selects a PCIe direction.
	PcieUtilCounter = nvml.PcieUtilCounter
)
