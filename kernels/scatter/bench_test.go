package scatter

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/ibmb-dev/ibmb/kernels/gather"
	"github.com/ibmb-dev/ibmb/kernels/internal/rowtest"
)

// Benchmark fixtures, built once: a store of up to benchStoreBytes (random
// rows of it miss the last-level cache) and packed source rows.
const (
	benchStoreBytes = 512 << 20
	benchMaxRows    = 1_000_000
)

var (
	benchOnce  sync.Once
	benchStore []byte
	benchSrc   []byte
)

func benchBuffers() ([]byte, []byte) {
	benchOnce.Do(func() {
		benchStore = make([]byte, benchStoreBytes)
		benchSrc = make([]byte, 256<<20)
		for i := 0; i < len(benchStore); i += 4096 {
			benchStore[i] = 1
		}
		for i := 0; i < len(benchSrc); i += 4096 {
			benchSrc[i] = byte(i >> 12)
		}
	})
	return benchStore, benchSrc
}

// benchFixture returns the shared buffers, the store's rows for rows of rb
// bytes and n distinct random ids into it (PCG stream (rb, stream)).
func benchFixture(rb, n int64, stream uint64) (store, src []byte, rows int64, idx []int64) {
	store, src = benchBuffers()
	rows = min(benchMaxRows, int64(len(store))/rb)
	perm := rand.New(rand.NewPCG(uint64(rb), stream)).Perm(int(rows))
	idx = make([]int64, n)
	for i := range idx {
		idx[i] = int64(perm[i])
	}
	return store, src, rows, idx
}

// BenchmarkScatter writes n packed rows to n distinct random rows of a
// store of min(1e6, 512 MiB/rowBytes) rows with each tier and with the
// automatic choice (tier=auto). Throughput is in bytes of rows written;
// the duplicate check is included.
func BenchmarkScatter(b *testing.B) {
	tiers := []string{"auto"}
	for _, t := range Available() {
		if t != gather.TierScalar {
			tiers = append(tiers, t.String())
		}
	}
	for _, rb := range []int64{64, 256, 1024} {
		for _, n := range []int64{100_000} {
			for _, ts := range tiers {
				b.Run("row="+strconv.FormatInt(rb, 10)+"B/n="+strconv.FormatInt(n, 10)+"/tier="+ts, func(b *testing.B) {
					store, src, rows, idx := benchFixture(rb, n, uint64(n))
					tier := Tier(-1)
					for _, t := range Available() {
						if t.String() == ts {
							tier = t
						}
					}
					rowtest.BenchLoop(b, n*rb, func() error {
						return scatter(tier, ptr(store), rows, rb, ptr(src), ptr(idx), n, -1)
					})
					// The last scatter's rows must be in place.
					for _, i := range []int64{0, n - 1} {
						if store[idx[i]*rb] != src[i*rb] {
							b.Fatalf("row %d not written", i)
						}
					}
				})
			}
		}
	}
}

// BenchmarkMemcpy is the bandwidth baseline: one Go copy of the same bytes.
func BenchmarkMemcpy(b *testing.B) {
	for _, rb := range []int64{64, 256, 1024} {
		n := int64(100_000)
		b.Run("row="+strconv.FormatInt(rb, 10)+"B/n="+strconv.FormatInt(n, 10), func(b *testing.B) {
			store, src := benchBuffers()
			total := n * rb
			copy(store[:total], src[:total])
			b.SetBytes(total)
			b.ResetTimer()
			for b.Loop() {
				copy(store[:total], src[:total])
			}
		})
	}
}

// BenchmarkScatterStream compares ordinary and streaming stores for the
// AVX2 tier (rows of 64 B to 1 KiB, 1e5 rows into the 512 MiB store),
// which is how IBMB_SCATTER_STREAM_BYTES was chosen.
func BenchmarkScatterStream(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2")
	}
	for _, rb := range []int64{64, 256, 1024} {
		for _, st := range []int{0, 1} {
			b.Run("row="+strconv.FormatInt(rb, 10)+"B/stream="+strconv.Itoa(st), func(b *testing.B) {
				const n = 100_000
				store, src, rows, idx := benchFixture(rb, n, 7)
				rowtest.BenchLoop(b, n*rb, func() error {
					return scatter(gather.TierAVX2, ptr(store), rows, rb, ptr(src), ptr(idx), n, st)
				})
			})
		}
	}
}
