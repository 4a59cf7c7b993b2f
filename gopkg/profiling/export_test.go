package profiling

import "time"

// SetClock makes p read time from now and sample on ticks instead of a
// timer, so that tests control both. Call it before Start.
func SetClock(p *Profiler, now func() time.Time, ticks <-chan time.Time) {
	p.now = now
	p.ticker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
}
