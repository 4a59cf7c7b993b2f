package partition

import (
	"sync"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

var (
	benchOnce sync.Once
	benchG    *graph.CSR
)

// benchGraph is a CSBM graph with 100k nodes and 1M generated edges
// (about 2M stored entries once symmetrised), 16 classes, homophily 0.8.
func benchGraph(b *testing.B) *graph.CSR {
	benchOnce.Do(func() { benchG = csbmGraph(b, 100_000, 16, 10, 0.8, 1) })
	return benchG
}

func benchmarkPartition(b *testing.B, parts int) {
	for _, alg := range []Algorithm{Deep, HeavyEdge} {
		b.Run(alg.String(), func(b *testing.B) { benchmarkAlgorithm(b, parts, alg) })
	}
}

func benchmarkAlgorithm(b *testing.B, parts int, alg Algorithm) {
	g := benchGraph(b)
	part := partitionBench(b, g, parts, alg)
	c := EdgeCut(g, part)
	b.ReportMetric(float64(c)/float64(g.NumEdges()/2), "cut/edges")
	b.ReportMetric(float64(c)/float64(randomCut(g, parts, 1)), "cut/random")
}

// partitionBench times Partition of g into parts with alg and reports cut
// and balance; it returns the last partition.
func partitionBench(b *testing.B, g *graph.CSR, parts int, alg Algorithm) []int32 {
	opt := Options{Parts: parts, Seed: 1, Algorithm: alg}
	var part []int32
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if part, err = Partition(g, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(EdgeCut(g, part)), "cut")
	b.ReportMetric(Balance(part, parts, nil), "balance")
	return part
}

func BenchmarkPartitionCSBM100k64(b *testing.B)  { benchmarkPartition(b, 64) }
func BenchmarkPartitionCSBM100k16(b *testing.B)  { benchmarkPartition(b, 16) }
func BenchmarkPartitionCSBM100k128(b *testing.B) { benchmarkPartition(b, 128) }
