//go:build !race

package ppr

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
