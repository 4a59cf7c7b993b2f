//go:build race

package ppr

// raceEnabled is true when the tests run under the race detector, which
// slows them down about tenfold; the real-graph tests then use fewer seeds.
const raceEnabled = true
