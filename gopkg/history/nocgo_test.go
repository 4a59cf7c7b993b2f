//go:build !cgo

package history

import (
	"errors"
	"strings"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

// TestGPUStoresWithoutCgo: without cgo, Pinned and Device stores are
// reported unavailable and Host stores still work.
func TestGPUStoresWithoutCgo(t *testing.T) {
	for _, pl := range []Placement{Pinned, Device} {
		s, err := NewWith(10, []int64{4}, dtype.Float32, Options{Placement: pl})
		if s != nil || !errors.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "built without cgo") {
			t.Errorf("%v: %v, %v", pl, s, err)
		}
	}
	s, err := NewWith(10, []int64{4}, dtype.Float32, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
