//go:build race

package partition

// raceEnabled is true under the race detector, which slows the partitioner
// down about tenfold; the cancellation tests then use smaller graphs.
const raceEnabled = true
