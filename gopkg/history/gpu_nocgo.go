//go:build !cgo

package history

// gpu is nil without cgo: NewWith reports Pinned and Device stores as
// unavailable ("built without cgo").
var gpu gpuDriver
