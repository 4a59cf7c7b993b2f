package profiling

// defaultLibrary is the file name of NVML that is loaded unless IBMB_NVML
// names another.
const defaultLibrary = "libnvidia-ml.so.1"

// NVML status codes and selectors the profiler uses, with nvml.h's values
// (go-nvml's SUCCESS, ERROR_NOT_SUPPORTED, CLOCK_SM, ...), so that fakes
// and tests need not import go-nvml, which builds only with cgo.
const (
	Success              Return = 0
	ErrorUninitialized   Return = 1
	ErrorInvalidArgument Return = 2
	ErrorNotSupported    Return = 3
	ErrorNoPermission    Return = 4
	ErrorDriverNotLoaded Return = 9
	ErrorLibraryNotFound Return = 12
	ErrorGPUIsLost       Return = 15
	ErrorUnknown         Return = 999

	ClockSM  ClockType = 1
	ClockMem ClockType = 2

	PcieUtilTxBytes PcieUtilCounter = 0
	PcieUtilRxBytes PcieUtilCounter = 1
)
