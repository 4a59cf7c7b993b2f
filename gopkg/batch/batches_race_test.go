//go:build race

package batch

// raceEnabled is true under the race detector, which slows tests tenfold.
const raceEnabled = true
