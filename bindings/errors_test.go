package bindings

import (
	"errors"
	"strings"
	"testing"
)

// TestViewAll: every buffer is viewed in order; the first bad one is the
// error (naming its pointer and length) and the buffers after it are left
// unviewed.
func TestViewAll(t *testing.T) {
	ints := []int64{1, 2, 3}
	floats := []float32{0.5, 1.5}
	tests := []struct {
		name    string
		p       uintptr
		n       int
		wantErr string
	}{
		{"all good", addr(ints), 3, ""},
		{"empty middle", addr(ints), 0, ""},
		{"null middle", 0, 2, "pointer 0x0, length 2"},
		{"negative middle", addr(ints), -1, "length -1"},
		{"huge middle", addr(ints), maxElems + 1, "length"},
	}
	for _, tc := range tests {
		var a, b []int64
		var c []float32
		err := viewAll(at(&a, addr(ints), 2), at(&b, tc.p, tc.n), at(&c, addr(floats), 2))
		if tc.wantErr != "" {
			if !errors.Is(err, errArg) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("%s: error %v, want an argument error with %q", tc.name, err, tc.wantErr)
			}
			if len(a) != 2 || b != nil || c != nil {
				t.Fatalf("%s: views %v %v %v after the error", tc.name, a, b, c)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(a) != 2 || a[1] != 2 || len(b) != tc.n || len(c) != 2 || c[1] != 1.5 {
			t.Fatalf("%s: views %v %v %v", tc.name, a, b, c)
		}
		if tc.n > 0 && &b[0] != &ints[0] {
			t.Fatalf("%s: the view copies", tc.name)
		}
	}
}
