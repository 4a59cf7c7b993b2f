package profiling_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/profiling"
	"github.com/ibmb-dev/ibmb/gopkg/profiling/profilingtest"
)

const gib = 1 << 30

// clock is a manual clock for SetClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// run is a profiler under manual control: step advances the clock and has
// the sampling goroutine take one sample.
type run struct {
	t     *testing.T
	p     *profiling.Profiler
	clk   *clock
	ticks chan time.Time
}

func newRun(t *testing.T, lib profiling.NVML, o profiling.Options) *run {
	t.Helper()
	o.NVML = lib
	p, err := profiling.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{t: t, p: p, clk: &clock{t: time.Unix(1000, 0)}, ticks: make(chan time.Time)}
	profiling.SetClock(p, r.clk.now, r.ticks)
	return r
}

// step advances the clock by d, ticks, and waits until the sample is stored.
func (r *run) step(d time.Duration) {
	r.t.Helper()
	n := len(r.p.Series())
	r.clk.advance(d)
	r.ticks <- time.Time{}
	deadline := time.Now().Add(10 * time.Second)
	for len(r.p.Series()) == n {
		if time.Now().After(deadline) {
			r.t.Fatal("sample not taken within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func TestNewUnavailable(t *testing.T) {
	oneDevice := func() []*profilingtest.Device { return profilingtest.Simple().Devices }
	tests := []struct {
		name   string
		lib    *profilingtest.NVML
		device int
		want   string
	}{
		{"library missing", &profilingtest.NVML{InitReturn: profiling.ErrorLibraryNotFound}, 0, "NVML unavailable: libnvidia-ml.so.1 not found"},
		{"driver not loaded", &profilingtest.NVML{InitReturn: profiling.ErrorDriverNotLoaded}, 0, "NVML unavailable: the NVIDIA driver is not loaded"},
		{"no permission", &profilingtest.NVML{InitReturn: profiling.ErrorNoPermission}, 0, "NVML unavailable: no permission"},
		{"other init error", &profilingtest.NVML{InitReturn: profiling.ErrorUnknown}, 0, "NVML unavailable: nvmlInit failed: ERROR_UNKNOWN"},
		{"count fails", &profilingtest.NVML{CountReturn: profiling.ErrorGPUIsLost, Devices: oneDevice()}, 0, "NVML unavailable: cannot count NVIDIA devices"},
		{"no device", &profilingtest.NVML{}, 0, "NVML unavailable: no NVIDIA device"},
		{"index out of range", &profilingtest.NVML{Devices: oneDevice()}, 1, "NVML unavailable: device 1 out of range (1 NVIDIA device(s))"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profiling.New(profiling.Options{Device: tc.device, NVML: tc.lib})
			if p != nil || !errors.Is(err, profiling.ErrUnavailable) {
				t.Fatalf("New = %v, %v; want nil and an ErrUnavailable error", p, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q does not start with %q", err, tc.want)
			}
			if n := tc.lib.Open(); n != 0 {
				t.Errorf("NVML left initialized %d time(s) after a failed New", n)
			}
		})
	}
}

func TestNewInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		o    profiling.Options
	}{
		{"negative device", profiling.Options{Device: -1}},
		{"negative interval", profiling.Options{Interval: -time.Second}},
		{"interval below minimum", profiling.Options{Interval: time.Microsecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lib := profilingtest.Simple()
			tc.o.NVML = lib
			if _, err := profiling.New(tc.o); !errors.Is(err, profiling.ErrValue) {
				t.Fatalf("New(%+v) error = %v, want ErrValue", tc.o, err)
			}
			if lib.Open() != 0 {
				t.Error("NVML opened for invalid options")
			}
		})
	}
	p, err := profiling.New(profiling.Options{NVML: profilingtest.Simple()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.Options().Interval; got != profiling.DefaultInterval {
		t.Errorf("default interval %v, want %v", got, profiling.DefaultInterval)
	}
}

// TestScriptedRun drives a run sample by sample and checks every value of
// the series and the summary against the script.
func TestScriptedRun(t *testing.T) {
	dev := &profilingtest.Device{
		Name:        "Scripted",
		MemoryTotal: 8 * gib,
		Script: []profilingtest.Reading{
			// t = 0 s (Start)
			{GPUUtil: 0, MemUtil: 0, MemUsed: 1 * gib, ProcessMem: 0, PowerMW: 50000, EnergyMJ: 1_000_000, SMClock: 300, MemClock: 800, PCIeTXKB: 0, PCIeRXKB: 0},
			// t = 1 s
			{GPUUtil: 50, MemUtil: 20, MemUsed: 3 * gib, ProcessMem: 2 * gib, PowerMW: 150000, EnergyMJ: 1_100_000, SMClock: 1500, MemClock: 800, PCIeTXKB: 100, PCIeRXKB: 400},
			// t = 2 s
			{GPUUtil: 100, MemUtil: 60, MemUsed: 6 * gib, ProcessMem: 5 * gib, PowerMW: 250000, EnergyMJ: 1_300_000, SMClock: 1800, MemClock: 800, PCIeTXKB: 200, PCIeRXKB: 200},
			// t = 2.5 s (Stop)
			{GPUUtil: 10, MemUtil: 0, MemUsed: 2 * gib, ProcessMem: 1 * gib, PowerMW: 100000, EnergyMJ: 1_350_000, SMClock: 600, MemClock: 800, PCIeTXKB: 0, PCIeRXKB: 0},
		},
	}
	lib := &profilingtest.NVML{Devices: []*profilingtest.Device{dev}}
	r := newRun(t, lib, profiling.Options{})
	if err := r.p.Start(); err != nil {
		t.Fatal(err)
	}
	r.step(time.Second)
	r.step(time.Second)
	r.clk.advance(500 * time.Millisecond)
	sum, err := r.p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	series := r.p.Series()
	if len(series) != 4 {
		t.Fatalf("%d samples, want 4 (Start, 2 ticks, Stop)", len(series))
	}
	times := []time.Duration{0, time.Second, 2 * time.Second, 2500 * time.Millisecond}
	// Energy from the counter: (counter - counter at Start) / 1000 J.
	energy := []float64{0, 100, 300, 350}
	for k, s := range series {
		in := dev.Script[k]
		want := map[profiling.Field]float64{
			profiling.GPUUtil:    float64(in.GPUUtil),
			profiling.MemUtil:    float64(in.MemUtil),
			profiling.MemUsed:    float64(in.MemUsed),
			profiling.MemTotal:   8 * gib,
			profiling.ProcessMem: float64(in.ProcessMem),
			profiling.Power:      float64(in.PowerMW) / 1000,
			profiling.Energy:     energy[k],
			profiling.SMClock:    float64(in.SMClock),
			profiling.MemClock:   800,
			profiling.PCIeTX:     float64(in.PCIeTXKB) * 1024,
			profiling.PCIeRX:     float64(in.PCIeRXKB) * 1024,
		}
		if s.Time != times[k] {
			t.Errorf("sample %d at %v, want %v", k, s.Time, times[k])
		}
		for f, w := range want {
			if got := s.Get(f); !near(got, w) {
				t.Errorf("sample %d: %v = %v, want %v", k, f, got, w)
			}
		}
	}
	want := profiling.Summary{
		Device:            "Scripted",
		Duration:          2500 * time.Millisecond,
		Samples:           4,
		MemoryTotal:       8 * gib,
		StartMemoryUsed:   1 * gib,
		PeakMemoryUsed:    6 * gib,
		PeakProcessMemory: 5 * gib,
		MeanGPUUtil:       (0 + 50 + 100 + 10) / 4.0,
		MaxGPUUtil:        100,
		MeanMemUtil:       (0 + 20 + 60 + 0) / 4.0,
		MaxMemUtil:        60,
		EnergyJ:           350,
		EnergyFromCounter: true,
		MeanPowerW:        (50 + 150 + 250 + 100) / 4.0,
		MaxPowerW:         250,
		MeanSMClockMHz:    (300 + 1500 + 1800 + 600) / 4.0,
		MaxSMClockMHz:     1800,
		MeanPCIeTX:        (0 + 100 + 200 + 0) * 1024 / 4.0,
		MeanPCIeRX:        (0 + 400 + 200 + 0) * 1024 / 4.0,
	}
	checkSummary(t, sum, want)
	if lib.Open() != 0 {
		t.Error("NVML still initialized after Stop")
	}
}

// checkSummary compares every field of two summaries: the float64 ones
// with near (NaN equals NaN), the others exactly.
func checkSummary(t *testing.T, got, want profiling.Summary) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		name := g.Type().Field(i).Name
		if g.Field(i).Kind() == reflect.Float64 {
			if !near(g.Field(i).Float(), w.Field(i).Float()) {
				t.Errorf("summary.%s = %v, want %v", name, g.Field(i).Float(), w.Field(i).Float())
			}
		} else if !g.Field(i).Equal(w.Field(i)) {
			t.Errorf("summary.%s = %v, want %v", name, g.Field(i), w.Field(i))
		}
	}
}

// TestEnergy checks both energy sources: the device counter, and the
// trapezoid integral of power when the counter is unsupported or power
// reads fail in between.
func TestEnergy(t *testing.T) {
	tests := []struct {
		name        string
		power       []uint32 // mW per sample; 0 marks a failed read
		counter     []uint64 // mJ per sample; nil: counter unsupported
		steps       []time.Duration
		wantEnergy  []float64
		fromCounter bool
	}{
		{
			name:  "integrated",
			power: []uint32{100000, 200000, 200000}, steps: []time.Duration{time.Second, time.Second},
			// trapezoids: (100+200)/2·1 s = 150 J, then 200·1 s = 200 J
			wantEnergy: []float64{0, 150, 350},
		},
		{
			name:  "integrated across a failed power read",
			power: []uint32{100000, 0, 300000}, steps: []time.Duration{time.Second, time.Second},
			// the middle read fails: one trapezoid over 2 s, (100+300)/2·2 = 400 J
			wantEnergy: []float64{0, 0, 400},
		},
		{
			name:  "counter",
			power: []uint32{100000, 100000, 100000}, counter: []uint64{5000, 5500, 9000},
			steps:      []time.Duration{time.Second, time.Second},
			wantEnergy: []float64{0, 0.5, 4}, fromCounter: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dev := &profilingtest.Device{Name: "e", MemoryTotal: gib}
			for k := range tc.power {
				r := profilingtest.Reading{PowerMW: tc.power[k]}
				if tc.counter != nil {
					r.EnergyMJ = tc.counter[k]
				}
				dev.Script = append(dev.Script, r)
			}
			if tc.counter == nil {
				dev.Unsupported = map[string]bool{"GetTotalEnergyConsumption": true}
			}
			// A 0 mW reading stands for a failed read: wrap the device.
			lib := &profilingtest.NVML{Devices: []*profilingtest.Device{dev}}
			r := newRun(t, failZeroPower{lib}, profiling.Options{SkipPCIe: true})
			if err := r.p.Start(); err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.steps[:len(tc.steps)-1] {
				r.step(d)
			}
			r.clk.advance(tc.steps[len(tc.steps)-1])
			sum, err := r.p.Stop()
			if err != nil {
				t.Fatal(err)
			}
			s := r.p.Series()
			for k, w := range tc.wantEnergy {
				if got := s[k].Get(profiling.Energy); !near(got, w) {
					t.Errorf("energy at sample %d = %v J, want %v J", k, got, w)
				}
			}
			if !near(sum.EnergyJ, tc.wantEnergy[len(tc.wantEnergy)-1]) || sum.EnergyFromCounter != tc.fromCounter {
				t.Errorf("summary energy %v J (counter %v), want %v J (counter %v)",
					sum.EnergyJ, sum.EnergyFromCounter, tc.wantEnergy[len(tc.wantEnergy)-1], tc.fromCounter)
			}
			if !near(s[len(tc.power)-1].Get(profiling.PCIeTX), math.NaN()) {
				t.Error("PCIe read although SkipPCIe")
			}
		})
	}
}

// failZeroPower makes a 0 mW power reading a failed read.
type failZeroPower struct{ *profilingtest.NVML }

func (l failZeroPower) DeviceGetHandleByIndex(i int) (profiling.Device, profiling.Return) {
	d, ret := l.NVML.DeviceGetHandleByIndex(i)
	if ret != profiling.Success {
		return nil, ret
	}
	return zeroPowerFails{d}, ret
}

type zeroPowerFails struct{ profiling.Device }

func (d zeroPowerFails) GetPowerUsage() (uint32, profiling.Return) {
	mw, ret := d.Device.GetPowerUsage()
	if ret == profiling.Success && mw == 0 {
		return 0, profiling.ErrorUnknown
	}
	return mw, ret
}

func TestUnsupportedFieldsAreNaN(t *testing.T) {
	unsupported := map[string]bool{}
	for _, m := range []string{"GetUtilizationRates", "GetMemoryInfo", "GetComputeRunningProcesses", "GetPowerUsage",
		"GetTotalEnergyConsumption", "GetClockInfo", "GetPcieThroughput", "GetName"} {
		unsupported[m] = true
	}
	dev := &profilingtest.Device{Name: "old", Script: []profilingtest.Reading{{GPUUtil: 1}}, Unsupported: unsupported}
	r := newRun(t, &profilingtest.NVML{Devices: []*profilingtest.Device{dev}}, profiling.Options{})
	if err := r.p.Start(); err != nil {
		t.Fatal(err)
	}
	r.step(time.Second)
	sum, err := r.p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.p.Series() {
		for f := range profiling.NumFields {
			if !math.IsNaN(s.Get(f)) {
				t.Errorf("%v = %v, want NaN", f, s.Get(f))
			}
		}
	}
	nan := math.NaN()
	checkSummary(t, sum, profiling.Summary{Duration: time.Second, Samples: 3,
		MemoryTotal: nan, StartMemoryUsed: nan, PeakMemoryUsed: nan, PeakProcessMemory: nan,
		MeanGPUUtil: nan, MaxGPUUtil: nan, MeanMemUtil: nan, MaxMemUtil: nan, EnergyJ: nan,
		MeanPowerW: nan, MaxPowerW: nan, MeanSMClockMHz: nan, MaxSMClockMHz: nan, MeanPCIeTX: nan, MeanPCIeRX: nan})
}

func TestProcessMemory(t *testing.T) {
	tests := []struct {
		name string
		pid  int    // 0: this process
		mem  uint64 // what NVML lists for pid
		want float64
	}{
		{"listed", 0, 3 * gib, 3 * gib},
		{"not listed (no context yet)", 0, 0, 0},
		{"another process", 1, 3 * gib, 0},
		{"amount withheld", 0, math.MaxUint64, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dev := &profilingtest.Device{Pid: tc.pid, Script: []profilingtest.Reading{{ProcessMem: tc.mem}}}
			p, err := profiling.New(profiling.Options{NVML: &profilingtest.NVML{Devices: []*profilingtest.Device{dev}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			sum, err := p.Stop()
			if err != nil {
				t.Fatal(err)
			}
			if !near(sum.PeakProcessMemory, tc.want) {
				t.Errorf("PeakProcessMemory = %v, want %v", sum.PeakProcessMemory, tc.want)
			}
		})
	}
}

func TestStateErrors(t *testing.T) {
	lib := profilingtest.Simple()
	newP := func() *profiling.Profiler {
		p, err := profiling.New(profiling.Options{NVML: lib, Interval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := newP()
	if _, err := p.Stop(); !errors.Is(err, profiling.ErrState) {
		t.Errorf("Stop before Start: %v, want ErrState", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); !errors.Is(err, profiling.ErrState) {
		t.Errorf("second Start: %v, want ErrState", err)
	}
	time.Sleep(5 * time.Millisecond)
	s1, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if s1.Samples < 2 || s1.Samples != len(p.Series()) {
		t.Errorf("summary has %d samples, series %d; want the same, >= 2", s1.Samples, len(p.Series()))
	}
	s2, err := p.Stop()
	if err != nil || s2 != s1 {
		t.Errorf("second Stop = %+v, %v; want the first summary again", s2, err)
	}
	if err := p.Start(); !errors.Is(err, profiling.ErrState) {
		t.Errorf("Start after Stop: %v, want ErrState", err)
	}
	for range 2 {
		if err := p.Close(); err != nil {
			t.Errorf("Close after Stop: %v", err)
		}
	}
	if s3, err := p.Stop(); err != nil || s3 != s1 {
		t.Errorf("Stop after Close = %+v, %v; want the first summary", s3, err)
	}

	// Close while running, then Stop: no summary.
	p = newP()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stop(); !errors.Is(err, profiling.ErrState) {
		t.Errorf("Stop after Close of a running profiler: %v, want ErrState", err)
	}
	// Close without Start.
	p = newP()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); !errors.Is(err, profiling.ErrState) {
		t.Errorf("Start after Close: %v, want ErrState", err)
	}
	if n := lib.Open(); n != 0 {
		t.Errorf("NVML initialized %d time(s) after every profiler closed", n)
	}
}

func TestPanicWhileSampling(t *testing.T) {
	t.Run("in the sampling goroutine", func(t *testing.T) {
		dev := &profilingtest.Device{Script: []profilingtest.Reading{{GPUUtil: 10}, {GPUUtil: 20}, {Panic: true}}}
		lib := &profilingtest.NVML{Devices: []*profilingtest.Device{dev}}
		r := newRun(t, lib, profiling.Options{})
		if err := r.p.Start(); err != nil {
			t.Fatal(err)
		}
		r.step(time.Second)
		r.clk.advance(time.Second)
		r.ticks <- time.Time{} // this sample panics; the goroutine ends
		sum, err := r.p.Stop() // the Stop sample panics too
		if !errors.Is(err, profiling.ErrNVML) || !strings.Contains(err.Error(), "panic while sampling") {
			t.Fatalf("Stop error %v, want ErrNVML naming the panic", err)
		}
		if sum.Samples != 2 || sum.MaxGPUUtil != 20 {
			t.Errorf("summary %+v, want the 2 samples before the panic", sum)
		}
		if lib.Open() != 0 {
			t.Error("NVML still initialized")
		}
	})
	t.Run("in the first sample", func(t *testing.T) {
		dev := &profilingtest.Device{Script: []profilingtest.Reading{{Panic: true}}}
		lib := &profilingtest.NVML{Devices: []*profilingtest.Device{dev}}
		p, err := profiling.New(profiling.Options{NVML: lib})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(); !errors.Is(err, profiling.ErrNVML) {
			t.Fatalf("Start error %v, want ErrNVML", err)
		}
		if lib.Open() != 0 {
			t.Error("NVML still initialized after a failed Start")
		}
		if _, err := p.Stop(); !errors.Is(err, profiling.ErrState) {
			t.Errorf("Stop after a failed Start: %v, want ErrState", err)
		}
	})
}

// TestTimerSampling runs the real timer and reads the series concurrently
// (meant for -race).
func TestTimerSampling(t *testing.T) {
	lib := profilingtest.Simple()
	p, err := profiling.New(profiling.Options{NVML: lib, Interval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				_ = p.Series()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	sum, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	s := p.Series()
	if len(s) < 3 || sum.Samples != len(s) {
		t.Fatalf("%d samples (summary %d) in %v at 2 ms; want >= 3", len(s), sum.Samples, sum.Duration)
	}
	for i := 1; i < len(s); i++ {
		if s[i].Time <= s[i-1].Time {
			t.Fatalf("sample times not increasing: %v then %v", s[i-1].Time, s[i].Time)
		}
	}
	if sum.Duration < s[len(s)-1].Time {
		t.Errorf("duration %v before the last sample %v", sum.Duration, s[len(s)-1].Time)
	}
	// Simple: the first sample is idle, every later one busy.
	if sum.PeakMemoryUsed != 5*gib || sum.MaxGPUUtil != 80 || sum.StartMemoryUsed != 1*gib || sum.EnergyFromCounter {
		t.Errorf("summary %+v does not match profilingtest.Simple's script", sum)
	}
	if sum.EnergyJ <= 0 {
		t.Errorf("integrated energy %v J, want > 0", sum.EnergyJ)
	}
}

// TestSystemNVML checks the real library: on a machine without NVML, New
// and Available must say why, quickly and without crashing.
func TestSystemNVML(t *testing.T) {
	ok, reason := profiling.Available()
	p, err := profiling.New(profiling.Options{})
	if ok {
		if err != nil {
			t.Fatalf("Available() but New: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		t.Skip("NVML is available here; the unavailable path is covered by the fake")
	}
	if !strings.HasPrefix(reason, "NVML unavailable: ") {
		t.Errorf("reason %q does not start with \"NVML unavailable: \"", reason)
	}
	if !errors.Is(err, profiling.ErrUnavailable) || err.Error() != reason {
		t.Errorf("New error %v, want ErrUnavailable with the reason %q", err, reason)
	}
	t.Logf("reason: %s", reason)
}

func TestFieldNames(t *testing.T) {
	seen := map[string]bool{}
	for f := range profiling.NumFields {
		n := f.String()
		if n == "" || strings.HasPrefix(n, "field(") || seen[n] {
			t.Errorf("field %d has name %q", int(f), n)
		}
		seen[n] = true
	}
	if got := profiling.NumFields.String(); got != "field(11)" {
		t.Errorf("NumFields.String() = %q", got)
	}
	if !math.IsNaN(profiling.Sample{}.Get(-1)) {
		t.Error("Get of an unknown field is not NaN")
	}
}
