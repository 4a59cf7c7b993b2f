package profiling

import "github.com/ibmb-dev/ibmb/gopkg/errs"

// ErrUnavailable is wrapped by every error saying that GPU profiling cannot
// run here: NVML's library is missing, the driver is not loaded, there is no
// NVIDIA device, or the device index is out of range. The message says
// which, e.g. "NVML unavailable: libnvidia-ml.so.1 not found (...)".
var ErrUnavailable = errs.New(errs.Unavailable, "NVML unavailable")

// ErrValue is wrapped by errors caused by invalid options (a negative
// device index or interval).
var ErrValue = errs.New(errs.Value, "value error")

// ErrState is wrapped by errors caused by calls out of order: Start on a
// running or finished profiler, Stop before Start, Start after Close.
var ErrState = errs.New(errs.Runtime, "profiler state error")

// ErrNVML is wrapped by errors NVML returns after it was opened (shutting it
// down failed) and by a panic recovered while sampling.
var ErrNVML = errs.New(errs.Runtime, "NVML error")
