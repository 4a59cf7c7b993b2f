//go:build !race

package batch

// raceEnabled is true under the race detector.
const raceEnabled = false
