package memlimit

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		f    []int64
		want int64
		ok   bool
	}{
		{nil, 1, true},
		{[]int64{3, 8}, 24, true},
		{[]int64{0, math.MaxInt64}, 0, true},
		{[]int64{1 << 31, 1 << 31}, 1 << 62, true},
		{[]int64{1 << 32, 1 << 31}, 0, false}, // 2^63 overflows int64
		{[]int64{1 << 40, 1 << 40}, 0, false},
		{[]int64{-1, 8}, 0, false},
	} {
		got, ok := Bytes(tc.f...)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Bytes(%v) = %d, %v; want %d, %v", tc.f, got, ok, tc.want, tc.ok)
		}
	}
}

// withMeminfo points the package at a fake /proc/meminfo for one test.
func withMeminfo(t *testing.T, text string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	old := meminfo
	meminfo = path
	t.Cleanup(func() { meminfo = old })
}

func TestCheck(t *testing.T) {
	withMeminfo(t, "MemTotal:       16000000 kB\nMemFree: 1000 kB\nMemAvailable:    8000000 kB\nSwapFree: 1000000 kB\n")
	avail, ok := Available()
	if !ok || avail != 9000000*1024 {
		t.Fatalf("Available() = %d, %v; want %d", avail, ok, 9000000*1024)
	}
	for _, tc := range []struct {
		name        string
		count, size int64
		fail        string // "" for no error, else a part of the message
	}{
		{"small", 1000, 8, ""},
		{"all available", 9000000 * 1024, 1, ""},
		{"one byte more", 9000000*1024 + 1, 1, "only 8.6 GiB"},
		{"2^40 classes", 1 << 40, 8, "needs 8.0 TiB"},
		{"beyond any machine", 1 << 50, 1, "more than any machine"},
		{"overflow", 1 << 62, 8, "more than 2^63 bytes"},
		{"negative", -1, 8, "negative size"},
	} {
		err := CheckN("the "+tc.name+" table", tc.count, tc.size)
		switch {
		case tc.fail == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.fail != "" && (!errors.Is(err, ErrMemory) || !strings.Contains(err.Error(), tc.fail) ||
			!strings.Contains(err.Error(), "the "+tc.name+" table")):
			t.Errorf("%s: got %v, want ErrMemory naming it and %q", tc.name, err, tc.fail)
		}
	}
}

func TestAvailableFallbacks(t *testing.T) {
	withMeminfo(t, "MemTotal: 4 kB\n")
	if avail, ok := Available(); !ok || avail != 4096 {
		t.Fatalf("MemTotal fallback: %d, %v", avail, ok)
	}
	withMeminfo(t, "garbage\n")
	if _, ok := Available(); ok {
		t.Fatal("no MemTotal: want unknown")
	}
	// Unknown memory refuses only impossible sizes.
	if err := Check("x", 1<<40); err != nil {
		t.Fatalf("unknown memory: %v", err)
	}
	if err := Check("x", 1<<48); !errors.Is(err, ErrMemory) {
		t.Fatalf("unknown memory, 2^48 bytes: %v", err)
	}
}

func TestOverride(t *testing.T) {
	restore := Override(1 << 20)
	if err := CheckN("x", 1<<18, 8); !errors.Is(err, ErrMemory) {
		t.Fatalf("2 MiB with 1 MiB available: %v", err)
	}
	inner := Override(-1)
	if _, ok := Available(); ok {
		t.Fatal("Override(-1): want unknown")
	}
	inner()
	if n, ok := Available(); !ok || n != 1<<20 {
		t.Fatalf("after the inner restore: %d, %v", n, ok)
	}
	restore()
	if err := CheckN("x", 1<<18, 8); err != nil && !strings.Contains(err.Error(), "available") {
		t.Fatalf("after restore: %v", err)
	}
}

func TestEnvLimit(t *testing.T) {
	withMeminfo(t, "MemAvailable: 8000000 kB\n")
	for _, tc := range []struct {
		env  string
		want int64
	}{
		{"", 8000000 * 1024},
		{"1000", 1000},
		{"2G", 2 << 30},
		{"3 m", 3 << 20},
		{"64T", 8000000 * 1024}, // above what is available: no effect
		{"bogus", 8000000 * 1024},
		{"-5", 8000000 * 1024},
	} {
		t.Setenv("IBMB_MEMORY_LIMIT", tc.env)
		if got, ok := Available(); !ok || got != tc.want {
			t.Errorf("IBMB_MEMORY_LIMIT=%q: %d, %v; want %d", tc.env, got, ok, tc.want)
		}
	}
}
