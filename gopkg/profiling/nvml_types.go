package profiling

// defaultLibrary is the file name of NVML that is loaded unless IBMB_NVML
// names another.
const defaultLibrary = "libnvidia-ml.so.1"

// NVML status codes and selectors the profiler uses, with nvml.h's values
// (go-nvml's SUCCESS, ERROR_NOT_SUPPORTED, CLOCK_SM, ...), so that fakes
// and tests need not import go-nvml, which builds only with cgo.
const (
	Success, ErrorUninitialized, ErrorInvalidArgument, ErrorNotSupported, ErrorNoPermission Return = 0, 1, 2, 3, 4
	ErrorDriverNotLoaded, ErrorLibraryNotFound, ErrorGPUIsLost, ErrorUnknown                Return = 9, 12, 15, 999

	ClockSM, ClockMem                ClockType       = 1, 2
	PcieUtilTxBytes, PcieUtilRxBytes PcieUtilCounter = 0, 1
)
