package bindings

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestProfileUnavailable(t *testing.T) {
	reason := ProfileAvailable()
	if reason == "" {
		t.Skip("NVML is available here")
	}
	if !strings.HasPrefix(reason, "NVML unavailable: ") {
		t.Errorf("reason %q", reason)
	}
	h, err := ProfileStart(0, 50, false)
	if h != 0 || err == nil || err.Error() != "ibmb:unavailable: "+reason {
		t.Errorf("ProfileStart = %d, %v; want ibmb:unavailable: %s", h, err, reason)
	}
}

func TestProfileFake(t *testing.T) {
	ProfileUseFake(true)
	t.Cleanup(func() { ProfileUseFake(false) })
	if r := ProfileAvailable(); r != "" {
		t.Fatalf("fake unavailable: %q", r)
	}
	before := NumHandles()
	h, err := ProfileStart(0, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := ProfileDevice(h); err != nil || name != "Fake GPU" {
		t.Errorf("ProfileDevice = %q, %v", name, err)
	}
	sumNames := strings.Split(ProfileSummaryFields(), ",")
	sum := make([]float64, len(sumNames))
	if err := ProfileSummary(h, addr(sum), len(sum)); err == nil || !strings.HasPrefix(err.Error(), "ibmb:runtime: ") {
		t.Errorf("summary of a running profiler: %v, want ibmb:runtime", err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := ProfileStop(h); err != nil {
		t.Fatal(err)
	}
	if err := ProfileStop(h); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if err := ProfileSummary(h, addr(sum), len(sum)-1); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Errorf("short summary buffer: %v, want ibmb:value", err)
	}
	if err := ProfileSummary(h, addr(sum), len(sum)); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for i, n := range sumNames {
		got[n] = sum[i]
	}
	n, err := ProfileSeriesLen(h)
	if err != nil || n < 2 || float64(n) != got["samples"] {
		t.Fatalf("ProfileSeriesLen = %d, %v; summary samples %v", n, err, got["samples"])
	}
	// profilingtest.Simple: idle first sample, busy afterwards.
	want := map[string]float64{"peak_memory_bytes": 5 << 30, "start_memory_bytes": 1 << 30, "memory_total_bytes": 16 << 30,
		"peak_process_memory_bytes": 3 << 30, "max_gpu_util": 80, "max_power_w": 300, "energy_from_counter": 0}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("summary %s = %v, want %v", k, got[k], w)
		}
	}
	if got["duration_s"] <= 0 || got["energy_j"] <= 0 {
		t.Errorf("summary %v", got)
	}

	cols := strings.Split(ProfileSeriesFields(), ",")
	if len(cols) != profileSeriesCols || cols[0] != "time_s" {
		t.Fatalf("series fields %v", cols)
	}
	buf := make([]float64, (n+1)*len(cols))
	for i := range buf {
		buf[i] = -7 // guard values
	}
	rows, err := ProfileSeriesCopy(h, addr(buf), n+1)
	if err != nil || rows != n {
		t.Fatalf("ProfileSeriesCopy = %d, %v; want %d", rows, err, n)
	}
	for _, v := range buf[n*len(cols):] {
		if v != -7 {
			t.Fatal("ProfileSeriesCopy wrote past the rows it returned")
		}
	}
	col := func(name string) int {
		for i, c := range cols {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %q", name)
		return -1
	}
	if first, last := buf[col("memory_used_bytes")], buf[(n-1)*len(cols)+col("memory_used_bytes")]; first != 1<<30 || last != 5<<30 {
		t.Errorf("memory_used_bytes first %v last %v", first, last)
	}
	if tl := buf[(n-1)*len(cols)]; !(tl > 0 && tl <= got["duration_s"]) {
		t.Errorf("last sample at %v s, duration %v s", tl, got["duration_s"])
	}
	if rows, err := ProfileSeriesCopy(h, 0, 0); rows != 0 || err != nil {
		t.Errorf("empty copy = %d, %v", rows, err)
	}
	if err := Free(h); err != nil {
		t.Fatal(err)
	}
	if NumHandles() != before {
		t.Error("profiler handle leaked")
	}
	if _, err := ProfileSeriesLen(h); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Errorf("freed handle: %v", err)
	}
}

func TestProfileArgs(t *testing.T) {
	ProfileUseFake(true)
	t.Cleanup(func() { ProfileUseFake(false) })
	for _, ms := range []float64{-1, math.NaN(), math.Inf(1), 1e-9} {
		if _, err := ProfileStart(0, ms, false); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
			t.Errorf("interval %v ms: %v, want ibmb:value", ms, err)
		}
	}
	if _, err := ProfileStart(-1, 50, false); err == nil || !strings.HasPrefix(err.Error(), "ibmb:value: ") {
		t.Errorf("device -1: %v, want ibmb:value", err)
	}
	if _, err := ProfileStart(3, 50, false); err == nil || !strings.HasPrefix(err.Error(), "ibmb:unavailable: NVML unavailable: device 3 out of range") {
		t.Errorf("device 3: %v, want ibmb:unavailable", err)
	}
}
