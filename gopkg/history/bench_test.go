package history

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/dtype"
)

// BenchmarkPushPull pushes and pulls n random distinct rows of a 1e6-node
// store of one layer (float32, float16) with 64 and 256 elements per row.
// Throughput is in bytes of rows moved.
func BenchmarkPushPull(b *testing.B) {
	const nodes, n = 1_000_000, 100_000
	for _, dt := range []DType{dtype.Float32, dtype.Float16} {
		for _, dim := range []int64{64, 256} {
			s, err := New(nodes, []int64{dim}, dt)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(dim), 1))
			ids := make([]int64, n)
			for i, p := range r.Perm(nodes)[:n] {
				ids[i] = int64(p)
			}
			rb := s.RowBytes(0)
			rows := make([]byte, n*rb)
			for i := range rows {
				rows[i] = byte(i)
			}
			// Fault every page of the store in first (a new store is
			// zero pages the kernel maps on first write).
			all := make([]int64, nodes)
			for i := range all {
				all[i] = int64(i)
			}
			if err := s.Push(0, make([]byte, nodes*rb), all); err != nil {
				b.Fatal(err)
			}
			name := dt.String() + "/dim=" + strconv.FormatInt(dim, 10)
			b.Run("push/"+name, func(b *testing.B) {
				b.SetBytes(n * rb)
				for b.Loop() {
					if err := s.Push(0, rows, ids); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("pull/"+name, func(b *testing.B) {
				b.SetBytes(n * rb)
				for b.Loop() {
					if err := s.Pull(0, ids, rows); err != nil {
						b.Fatal(err)
					}
				}
			})
			s.Close()
		}
	}
}
