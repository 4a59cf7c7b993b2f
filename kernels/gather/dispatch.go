package gather

import "runtime"

// TierFor returns the tier Rows uses for rows of rowBytes bytes on this
// CPU. PLACEHOLDER: filled in from measurements.
func TierFor(rowBytes int64) Tier {
	switch {
	case hasAVX512:
		return TierAVX512
	case hasAVX2:
		return TierAVX2
	}
	return TierMemcpy
}

// parMinWork is the work, in bytes of cache lines touched, below which a
// gather runs inline on the calling goroutine rather than on several.
const parMinWork = 256 << 10

// workers returns how many goroutines should share a gather of n rows.
func workers(n, rowBytes int64) int {
	w := int64(runtime.GOMAXPROCS(0))
	work := n * max(rowBytes, 64)
	if work/parMinWork < w {
		w = work / parMinWork
	}
	if w > n {
		w = n
	}
	return int(max(w, 1))
}
