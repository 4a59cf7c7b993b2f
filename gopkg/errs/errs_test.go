package errs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

func TestKindOf(t *testing.T) {
	errPkgValue := errs.New(errs.Value, "value error")
	errPkgIndex := errs.New(errs.Index, "index out of range")
	cases := []struct {
		name string
		err  error
		want *errs.Kind
	}{
		{"nil", nil, nil},
		{"plain", errors.New("boom"), errs.Internal},
		{"kind itself", errs.IO, errs.IO},
		{"sentinel", errPkgValue, errs.Value},
		{"wrapped sentinel", fmt.Errorf("graph: %w: bad", errPkgIndex), errs.Index},
		{"two kinds: first listed wins", fmt.Errorf("%w: %w", errs.Memory, errPkgIndex), errs.Index},
		{"canceled", fmt.Errorf("ppr: %w", context.Canceled), errs.Canceled},
		{"deadline", fmt.Errorf("ppr: %w", context.DeadlineExceeded), errs.Canceled},
		{"explicit canceled", errs.Canceled, errs.Canceled},
	}
	for _, c := range cases {
		if got := errs.KindOf(c.err); got != c.want {
			t.Errorf("%s: KindOf = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSentinel(t *testing.T) {
	a := errs.New(errs.Value, "value error")
	b := errs.New(errs.Value, "value error")
	err := fmt.Errorf("%w: x", a)
	if !errors.Is(err, a) || errors.Is(err, b) {
		t.Errorf("sentinels must match themselves only: is a %v, is b %v", errors.Is(err, a), errors.Is(err, b))
	}
	if !errors.Is(err, errs.Value) || errors.Is(err, errs.Index) {
		t.Errorf("sentinel must match its kind only")
	}
	if err.Error() != "value error: x" {
		t.Errorf("message %q", err.Error())
	}
}

// TestErrorf checks that Errorf's errors match their base and its kind
// and say the base's message before the formatted text.
func TestErrorf(t *testing.T) {
	sentinel := errs.New(errs.Index, "history: node id out of range")
	for _, tc := range []struct {
		base error
		kind *errs.Kind
		want string
	}{
		{sentinel, errs.Index, "history: node id out of range: id 7 of 5 (100%)"},
		{errs.Value, errs.Value, "value error: id 7 of 5 (100%)"},
	} {
		err := errs.Errorf(tc.base, "id %d of %d (100%%)", 7, 5)
		if !errors.Is(err, tc.base) || errs.KindOf(err) != tc.kind || err.Error() != tc.want {
			t.Errorf("Errorf(%v): %q, kind %v; want %q, kind %v", tc.base, err, errs.KindOf(err), tc.want, tc.kind)
		}
	}
}

func TestKindsDistinctNames(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range errs.Kinds {
		if k.Name() == "" || seen[k.Name()] {
			t.Errorf("kind name %q empty or repeated", k.Name())
		}
		seen[k.Name()] = true
		if k.Error() != k.Name()+" error" {
			t.Errorf("Error() = %q", k.Error())
		}
	}
}

func ExampleKindOf() {
	errBadID := errs.New(errs.Index, "index error")
	err := fmt.Errorf("%w: node 7 not in [0, 5)", errBadID)
	fmt.Println(errs.KindOf(err).Name(), errors.Is(err, errs.Index))
	fmt.Println(errs.KindOf(fmt.Errorf("job: %w", context.Canceled)).Name())
	// Output:
	// index true
	// canceled
}
