// Package pprcuda registers the CUDA push of package kernels/cuda as the
// device backend of package ppr. Import it for its side effect:
//
//	import _ "github.com/ibmb-dev/ibmb/gopkg/ppr/pprcuda"
//
// after which ppr.Options{Device: ppr.Device{CUDA: true}} runs the push on
// a GPU when the NVIDIA driver and NVRTC load at run time (else its errors
// wrap errs.Unavailable, and callers may fall back to the CPU). In a build
// without cgo the package registers a backend that always reports
// errs.Unavailable ("built without cgo"), like kernels/gather's nocgo.go.
package pprcuda
