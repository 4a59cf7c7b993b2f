//go:build race

package partition

// raceEnabled: the race detector is on; tests trim their slowest variants.
const raceEnabled = true
