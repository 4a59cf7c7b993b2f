//go:build tools

// Package deps pins modules that go.mod must keep for every build, also
// where the code that imports them is excluded by build tags (go-nvml is
// imported only with cgo). It is never built. gonum is not pinned here: the
// ppr tests import it (an independent dense-solve reference for Exact).
package deps

import (
	_ "github.com/NVIDIA/go-nvml/pkg/nvml"
	_ "golang.org/x/sys/cpu"
)
