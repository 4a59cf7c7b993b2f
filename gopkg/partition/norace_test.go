//go:build !race

package partition

// raceEnabled is true under the race detector, which slows the partitioner
// down about tenfold; tests then trim their slowest variants and the
// cancellation tests use smaller graphs.
const raceEnabled = false
