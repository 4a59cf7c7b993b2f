//go:build !cgo

package pprcuda_test

import (
	"errors"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
	_ "github.com/ibmb-dev/ibmb/gopkg/ppr/pprcuda"
)

// TestUnavailableWithoutCgo: without cgo a CUDA push reports that it is
// unavailable, and the CPU push still works.
func TestUnavailableWithoutCgo(t *testing.T) {
	g, err := graph.FromCOO([]int64{0, 1}, []int64{1, 2}, 3, graph.Options{Symmetrize: true})
	if err != nil {
		t.Fatal(err)
	}
	opt := ppr.Options{Alpha: 0.25, Eps: 1e-3, Device: ppr.Device{CUDA: true}}
	if _, _, err := ppr.NodeWise(g, []int64{0}, opt); !errors.Is(err, errs.Unavailable) {
		t.Fatalf("want an unavailable error, got %v", err)
	}
	opt.Device = ppr.Device{}
	if _, _, err := ppr.NodeWise(g, []int64{0}, opt); err != nil {
		t.Fatal(err)
	}
}
