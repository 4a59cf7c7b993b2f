package graph

import (
	"errors"
	"testing"
)

func TestErrorWrapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		sentinel error
		other    error
		msg      string
	}{
		{
			name:     "index",
			err:      indexErrorf("edge %d has node id %d but num_nodes is %d", 17, 2708, 2708),
			sentinel: ErrIndex,
			other:    ErrValue,
			msg:      "index error: edge 17 has node id 2708 but num_nodes is 2708",
		},
		{
			name:     "value",
			err:      valueErrorf("bad %s", "thing"),
			sentinel: ErrValue,
			other:    ErrIndex,
			msg:      "value error: bad thing",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false, want true", tc.err, tc.sentinel)
			}
			if errors.Is(tc.err, tc.other) {
				t.Errorf("errors.Is(%v, %v) = true, want false", tc.err, tc.other)
			}
			if got := tc.err.Error(); got != tc.msg {
				t.Errorf("message = %q, want %q", got, tc.msg)
			}
		})
	}
}
