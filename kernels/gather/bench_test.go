package gather

import (
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowtest"
)

// Benchmark buffers, shared by all benchmarks and allocated on first use:
// a source of up to benchSrcBytes (random rows from it miss the 32 MiB L3)
// and a destination of up to benchDstBytes. They live on ordinary 4 KiB
// pages, the worst case for random rows (about one TLB miss per row); with
// GATHER_BENCH_THP=1 they are advised onto transparent huge pages, as numpy
// does for large arrays.
const (
	benchSrcBytes = 1 << 30
	benchDstBytes = 1 << 30
	benchMaxRows  = 1_000_000
)

var (
	benchOnce     sync.Once
	benchSrc      []byte
	benchDst      []byte
	benchIdxCache = map[[2]int64][]int64{}
)

func benchBuffers() ([]byte, []byte) {
	benchOnce.Do(func() {
		benchSrc = make([]byte, benchSrcBytes)
		benchDst = make([]byte, benchDstBytes)
		if os.Getenv("GATHER_BENCH_THP") == "1" {
			adviseHugePages(benchSrc)
			adviseHugePages(benchDst)
		}
		for i := 0; i < len(benchSrc); i += 4096 { // fault the pages in
			benchSrc[i] = byte(i >> 12)
		}
		for i := 0; i < len(benchDst); i += 4096 {
			benchDst[i] = 1
		}
	})
	return benchSrc, benchDst
}

// benchIdx returns n random indices into rows rows (fixed seed, cached).
func benchIdx(n, rows int64) []int64 {
	key := [2]int64{n, rows}
	if idx, ok := benchIdxCache[key]; ok {
		return idx
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(rows)))
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = r.Int64N(rows)
	}
	benchIdxCache[key] = idx
	return idx
}

var benchRowSizes = []int64{64, 256, 512, 1024, 4096}
var benchCounts = []int64{100_000, 1_000_000}

// BenchmarkGather gathers n random rows out of min(1e6, 1 GiB/rowBytes)
// source rows with each tier and with the automatic choice (tier=auto,
// i.e. Rows). Throughput is in bytes written to dst. Outputs over 1 GiB
// (4 KiB x 1e6) are skipped to keep the memory bounded.
func BenchmarkGather(b *testing.B) {
	tiers := []string{"auto"}
	for _, t := range Available() {
		tiers = append(tiers, t.String())
	}
	for _, rb := range benchRowSizes {
		for _, n := range benchCounts {
			for _, ts := range tiers {
				name := "row=" + strconv.FormatInt(rb, 10) + "B/n=" + countName(n) + "/tier=" + ts
				b.Run(name, func(b *testing.B) {
					total := n * rb
					if total > benchDstBytes {
						b.Skipf("output of %d MiB exceeds the %d MiB benchmark buffer", total>>20, benchDstBytes>>20)
					}
					src, dst := benchBuffers()
					rows := min(benchMaxRows, int64(len(src))/rb)
					idx := benchIdx(n, rows)
					tier := Tier(-1)
					for _, t := range Available() {
						if t.String() == ts {
							tier = t
						}
					}
					// One untimed pass first: the first touch of a buffer
					// region after a while is slower on the development VM,
					// and would bias whichever tier runs first.
					rowtest.BenchLoop(b, total, func() error {
						return gather(tier, ptr(dst), ptr(src), rows, rb, ptr(idx), n, -1)
					})
					if hp := anonHugeKiB(); hp > 0 {
						b.ReportMetric(float64(hp>>10), "MiB-THP")
					}
				})
			}
		}
	}
}

// BenchmarkMemcpy is the bandwidth baseline: one contiguous Go copy of the
// same number of bytes as each BenchmarkGather case (row size x count).
func BenchmarkMemcpy(b *testing.B) {
	for _, rb := range benchRowSizes {
		for _, n := range benchCounts {
			total := n * rb
			b.Run("row="+strconv.FormatInt(rb, 10)+"B/n="+countName(n), func(b *testing.B) {
				if total > benchDstBytes {
					b.Skipf("%d MiB exceeds the %d MiB benchmark buffer", total>>20, benchDstBytes>>20)
				}
				src, dst := benchBuffers()
				copy(dst[:total], src[:total]) // untimed warm-up, as for BenchmarkGather
				b.SetBytes(total)
				b.ResetTimer()
				for b.Loop() {
					copy(dst[:total], src[:total])
				}
			})
		}
	}
}

func countName(n int64) string {
	switch n {
	case 100_000:
		return "1e5"
	case 1_000_000:
		return "1e6"
	}
	return strconv.FormatInt(n, 10)
}
