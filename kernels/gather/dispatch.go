package gather

// TierFor returns the tier Rows uses for rows of rowBytes bytes on this
// CPU: TierAVX512 for rows of 256 to 383 bytes when the CPU has AVX-512F,
// TierAVX2 for every other size when it has AVX2, and TierMemcpy on CPUs
// without AVX2. TierScalar, the reference, is never chosen.
//
// The choice comes from measurements on the development machine, a 2-core
// AMD EPYC (Zen 4) VM with 1 MiB of L2 per core and 32 MiB of L3, shared
// with other work, so figures drift by up to +-20% between runs. One
// thread, GB/s of output, best of 9 (DRAM) or 15 (cache) runs of the C
// kernels:
//
//	source in DRAM (min(1e6 rows, 1 GiB), 4 KiB pages), 128 MiB of output
//	row bytes          1    8   16   64  128  256  512   1K   2K   4K
//	memcpy           0.4  2.6  4.0  6.4  9.2 10.1  7.9  6.4  4.6  8.6
//	avx2             0.8  4.2  4.5  7.9 10.3 10.5  9.8  9.3  8.3  8.7
//	avx512           0.8  4.1  4.6  5.5  9.2 10.7 10.2  8.9  6.8  7.2
//	avx2, streaming    -    -    -  9.0 14.3 10.4 10.5 10.5  8.8 10.1
//	avx512, streaming  -    -    -  6.7 10.7 14.0 10.5 10.9  9.1  9.2
//	one memcpy of the same size: 10.3-13.7
//	(rows that are not a multiple of 32 bytes cannot stream)
//
//	source in cache (1 MiB), 8 MiB of output (below the streaming size)
//	row bytes          8   16   32   64  128  256  512   1K   4K
//	memcpy           2.8  5.2 11.3 21.0 35.2 33.2 36.4 34.7 36.2
//	avx2             5.8 12.1 22.2 28.6 37.4 36.8 38.5 38.2 40.5
//	avx512           6.1 12.2 22.4 31.1 34.0 37.8 38.6 37.9 40.2
//
// The vector kernels beat libc memcpy per row at every size: by 2x on rows
// under 32 bytes, where memcpy's size dispatch costs more than the copy,
// and by 1.5-2x on 1-2 KiB rows from DRAM. Zen 4 executes 512-bit
// operations as two 256-bit halves, so AVX-512 brings no bandwidth of its
// own; it tied with AVX2 within noise except when streaming from DRAM,
// where it lost on 64- to 192-byte rows (by up to 30%) and won on 256- and
// 320-byte rows (13.8 against 10.4 GB/s at 256 bytes, reproduced in five
// runs and in the Go benchmarks); from 384 bytes on the two tied again.
// The vector tiers' streaming stores start at 16 MiB of output
// (IBMB_GATHER_STREAM_BYTES in csrc/gather.h): below that they lost up to
// 30% on cache-resident data; above it they won 1.5-1.9x on cache-resident
// data and up to 1.4x from DRAM (table above).
func TierFor(rowBytes int64) Tier {
	switch {
	case hasAVX512 && hasAVX2 && rowBytes >= 256 && rowBytes < 384:
		return TierAVX512
	case hasAVX2:
		return TierAVX2
	}
	return TierMemcpy
}
