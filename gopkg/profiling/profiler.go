package profiling

import (
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
)

// DefaultInterval is the sampling interval used when Options.Interval is 0.
const DefaultInterval = 50 * time.Millisecond

// MinInterval is the shortest sampling interval New accepts. NVML itself
// refreshes utilization only every 1/6 s to 1 s, depending on the device.
const MinInterval = time.Millisecond

// Options configure a Profiler.
type Options struct {
	// Device is the NVML index of the device to sample (default 0).
	Device int
	// Interval is the time between samples (0: DefaultInterval).
	Interval time.Duration
	// SkipPCIe leaves the PCIe fields NaN. Each PCIe read blocks for NVML's
	// 20 ms measuring window, so reading both directions costs 40 ms per
	// sample; skip them to sample faster than about every 50 ms.
	SkipPCIe bool
	// NVML replaces the system's NVML library (nil: the library go-nvml
	// loads, libnvidia-ml.so.1 or $IBMB_NVML). Tests and examples pass a
	// fake from package profilingtest.
	NVML NVML
}

type state int

const (
	idle state = iota
	running
	stopped
	closed
)

func (s state) String() string {
	return [...]string{"not started", "running", "stopped", "closed"}[s]
}

// Profiler samples one NVIDIA device on a background goroutine between
// Start and Stop. Create it with New; it holds NVML open until Stop or
// Close.
type Profiler struct {
	opts Options
	lib  NVML
	dev  Device
	name string
	pid  uint32

	ctl        sync.Mutex // serializes Start, Stop and Close
	state      state
	open       bool // NVML is initialized and needs a Shutdown
	quit, done chan struct{}
	hasSummary bool
	summary    Summary
	stopErr    error

	mu      sync.Mutex // guards samples and loopErr
	samples []Sample
	loopErr error

	// Sampler state. Start, the sampling goroutine and Stop use it one
	// after the other (handed over by the channels above), never at once.
	t0         time.Time
	counter    bool   // energy comes from the device's counter
	energy0    uint64 // counter at Start, mJ
	energy     float64
	lastPowerT time.Duration
	lastPowerW float64
	havePower  bool

	now    func() time.Time
	ticker func(time.Duration) (<-chan time.Time, func())
}

// New opens NVML and device o.Device. It returns an error wrapping
// ErrUnavailable, whose message says why, when NVML cannot be loaded or
// initialized or the device does not exist, and ErrValue for a negative
// device or an interval below MinInterval. Call Stop or Close to release
// NVML.
func New(o Options) (p *Profiler, err error) {
	if o.Device < 0 {
		return nil, errs.Errorf(ErrValue, "device index %d is negative", o.Device)
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval < MinInterval {
		return nil, errs.Errorf(ErrValue, "sampling interval %v is shorter than %v", o.Interval, MinInterval)
	}
	lib := o.NVML
	if lib == nil {
		lib = system()
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, errs.Errorf(ErrUnavailable, "panic while opening NVML: %v", r)
		}
	}()
	dev, err := openDevice(lib, o.Device)
	if err != nil {
		return nil, err
	}
	name, ret := dev.GetName()
	if ret != Success {
		name = ""
	}
	return &Profiler{
		opts:   o,
		lib:    lib,
		dev:    dev,
		name:   name,
		pid:    uint32(os.Getpid()),
		open:   true,
		now:    time.Now,
		ticker: newTicker,
	}, nil
}

func newTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Options returns the options in use (with defaults filled in).
func (p *Profiler) Options() Options { return p.opts }

// DeviceName returns the device's product name ("" if NVML did not say).
func (p *Profiler) DeviceName() string { return p.name }

// Start takes the first sample and starts sampling every Interval. It
// returns an error wrapping ErrState when the profiler is running, stopped
// or closed (a Profiler records one run).
func (p *Profiler) Start() error {
	p.ctl.Lock()
	defer p.ctl.Unlock()
	if p.state != idle {
		return errs.Errorf(ErrState, "Start on a profiler that is %v (a Profiler records one run)", p.state)
	}
	s, err := p.read(true)
	if err != nil {
		p.shutdown()
		p.state = closed
		return err
	}
	p.mu.Lock()
	p.samples = append(p.samples, s)
	p.mu.Unlock()
	ticks, stopTicks := p.ticker(p.opts.Interval)
	p.quit, p.done = make(chan struct{}), make(chan struct{})
	go p.loop(ticks, stopTicks)
	p.state = running
	return nil
}

// loop samples on every tick until quit is closed.
func (p *Profiler) loop(ticks <-chan time.Time, stopTicks func()) {
	defer close(p.done)
	defer stopTicks()
	for {
		select {
		case <-p.quit:
			return
		case <-ticks:
			s, err := p.read(false)
			p.mu.Lock()
			if err != nil {
				p.loopErr = err
				p.mu.Unlock()
				return
			}
			p.samples = append(p.samples, s)
			p.mu.Unlock()
		}
	}
}

// Stop takes a last sample, ends sampling, releases NVML and returns the
// run's summary. A second Stop returns the same summary and error. Stop
// before Start, or after Close without a Stop, returns an error wrapping
// ErrState. When sampling failed (a panic in the NVML implementation) or
// NVML's shutdown failed, Stop returns the summary of the samples taken and
// an error wrapping ErrNVML.
func (p *Profiler) Stop() (Summary, error) {
	p.ctl.Lock()
	defer p.ctl.Unlock()
	switch p.state {
	case idle, closed:
		if p.hasSummary {
			return p.summary, p.stopErr
		}
		return Summary{}, errs.Errorf(ErrState, "Stop on a profiler that is %v", p.state)
	case stopped:
		return p.summary, p.stopErr
	}
	p.halt()
	var errs []error
	p.mu.Lock()
	if p.loopErr != nil {
		errs = append(errs, p.loopErr)
	}
	p.mu.Unlock()
	end := p.now().Sub(p.t0)
	if s, err := p.read(false); err != nil {
		errs = append(errs, err)
	} else {
		p.mu.Lock()
		p.samples = append(p.samples, s)
		p.mu.Unlock()
	}
	if err := p.shutdown(); err != nil {
		errs = append(errs, err)
	}
	p.mu.Lock()
	p.summary = summarize(p.name, p.samples, p.counter)
	p.mu.Unlock()
	if d := p.summary.Duration; end > d {
		p.summary.Duration = end
	}
	if len(errs) > 0 {
		p.stopErr = errs[0]
	}
	p.hasSummary = true
	p.state = stopped
	return p.summary, p.stopErr
}

// Close ends sampling if it runs (without a summary: use Stop for one) and
// releases NVML. It may be called any number of times, in any state; after
// Close, Start fails and Stop returns the summary of an earlier Stop, if
// any.
func (p *Profiler) Close() error {
	p.ctl.Lock()
	defer p.ctl.Unlock()
	if p.state == running {
		p.halt()
	}
	p.state = closed
	return p.shutdown()
}

// halt ends the sampling goroutine and waits for it.
func (p *Profiler) halt() {
	close(p.quit)
	<-p.done
}

// shutdown releases NVML once.
func (p *Profiler) shutdown() (err error) {
	if !p.open {
		return nil
	}
	p.open = false
	defer func() {
		if r := recover(); r != nil {
			err = errs.Errorf(ErrNVML, "panic in nvmlShutdown: %v", r)
		}
	}()
	if ret := p.lib.Shutdown(); ret != Success {
		return errs.Errorf(ErrNVML, "nvmlShutdown: %s", retString(ret))
	}
	return nil
}

// Series returns a copy of the samples taken so far, oldest first. It may
// be called while sampling runs and after Stop.
func (p *Profiler) Series() []Sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sample(nil), p.samples...)
}

// read takes one sample (first: the one at Start). NVML failures make
// fields NaN; only a panic in the NVML implementation is an error.
func (p *Profiler) read(first bool) (s Sample, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic while sampling: %v", ErrNVML, r)
		}
	}()
	nan := math.NaN()
	for i := range s.Values {
		s.Values[i] = nan
	}
	now := p.now()
	if first {
		p.t0 = now // the first sample defines time 0
	}
	s.Time = now.Sub(p.t0)
	d := p.dev
	// Power and energy first, so that they match s.Time best.
	if mw, ret := d.GetPowerUsage(); ret == Success {
		s.Values[Power] = float64(mw) / 1000
	}
	s.Values[Energy] = p.readEnergy(first, s.Time, s.Values[Power])
	if u, ret := d.GetUtilizationRates(); ret == Success {
		s.Values[GPUUtil] = float64(u.Gpu)
		s.Values[MemUtil] = float64(u.Memory)
	}
	if m, ret := d.GetMemoryInfo(); ret == Success {
		s.Values[MemUsed] = float64(m.Used)
		s.Values[MemTotal] = float64(m.Total)
	}
	s.Values[ProcessMem] = p.processMemory()
	if c, ret := d.GetClockInfo(ClockSM); ret == Success {
		s.Values[SMClock] = float64(c)
	}
	if c, ret := d.GetClockInfo(ClockMem); ret == Success {
		s.Values[MemClock] = float64(c)
	}
	if !p.opts.SkipPCIe {
		if kb, ret := d.GetPcieThroughput(PcieUtilTxBytes); ret == Success {
			s.Values[PCIeTX] = float64(kb) * 1024
		}
		if kb, ret := d.GetPcieThroughput(PcieUtilRxBytes); ret == Success {
			s.Values[PCIeRX] = float64(kb) * 1024
		}
	}
	return s, nil
}

// readEnergy returns the energy used since Start in joules: from the
// device's counter when it answered at the first sample, else the integral
// of power (trapezoids between successive power readings, bridging failed
// reads). NaN when neither is known.
func (p *Profiler) readEnergy(first bool, t time.Duration, watts float64) float64 {
	if first {
		if mj, ret := p.dev.GetTotalEnergyConsumption(); ret == Success {
			p.counter, p.energy0 = true, mj
			return 0
		}
	} else if p.counter {
		if mj, ret := p.dev.GetTotalEnergyConsumption(); ret == Success && mj >= p.energy0 {
			return float64(mj-p.energy0) / 1000
		}
		return math.NaN()
	}
	if math.IsNaN(watts) {
		if p.havePower {
			return p.energy
		}
		return math.NaN()
	}
	if p.havePower {
		p.energy += (p.lastPowerW + watts) / 2 * (t - p.lastPowerT).Seconds()
	}
	p.lastPowerT, p.lastPowerW, p.havePower = t, watts, true
	return p.energy
}

// processMemory returns the device memory used by this process in bytes:
// the sum over its entries in NVML's compute process list, 0 when it is not
// listed (no CUDA context on the device), NaN when NVML cannot list
// processes or withholds the amount.
func (p *Profiler) processMemory() float64 {
	procs, ret := p.dev.GetComputeRunningProcesses()
	if ret != Success {
		return math.NaN()
	}
	var sum float64
	for _, pr := range procs {
		if pr.Pid != p.pid {
			continue
		}
		if pr.UsedGpuMemory == math.MaxUint64 { // NVML_VALUE_NOT_AVAILABLE
			return math.NaN()
		}
		sum += float64(pr.UsedGpuMemory)
	}
	return sum
}
