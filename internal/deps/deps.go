//go:build tools

// Package deps pins modules that go.mod must keep before code imports them
// (gonum for numerics, go-nvml for GPU profiling). It is never built.
package deps

import (
	_ "github.com/NVIDIA/go-nvml/pkg/nvml"
	_ "golang.org/x/sys/cpu"
	_ "gonum.org/v1/gonum/mat"
)
