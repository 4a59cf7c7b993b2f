package ppr

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// IBMB's node-wise settings.
const (
	benchAlpha = 0.25
	benchEps   = 2e-4
	benchTopK  = 16
)

// benchNodeWise runs NodeWise with every node as target and reports
// throughput: targets/s, node pushes/s and edge pushes/s.
func benchNodeWise(b *testing.B, g *graph.CSR, workers int) {
	targets := make([]int64, g.NumNodes)
	for i := range targets {
		targets[i] = int64(i)
	}
	opt := Options{Alpha: benchAlpha, Eps: benchEps, TopK: benchTopK, Workers: workers}
	var st Stats
	b.ResetTimer()
	for range b.N {
		var err error
		_, st, err = NodeWise(g, targets, opt)
		if err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(targets))/sec, "nodes/s")
	b.ReportMetric(float64(st.Pushes)/sec, "pushes/s")
	b.ReportMetric(float64(st.EdgePushes)/sec, "edgepushes/s")
	b.ReportMetric(float64(st.EdgePushes)/float64(len(targets)), "edgepushes/node")
}

// benchWorkers lists the worker counts to benchmark: 1 and GOMAXPROCS.
func benchWorkers() []int { return []int{1, 0} }

// BenchmarkNodeWiseGitHub runs all 37,700 nodes of the karateclub GitHub
// graph (skipped when the shared data is absent).
func BenchmarkNodeWiseGitHub(b *testing.B) {
	g := loadKarateclub(b, "github")
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchNodeWise(b, g, w) })
	}
}

// BenchmarkNodeWiseRMAT runs all nodes of a symmetrized R-MAT graph with
// edge factor 8, at scale 17 (131,072 nodes) unless IBMB_BENCH_RMAT_SCALE
// says otherwise.
func BenchmarkNodeWiseRMAT(b *testing.B) {
	scale := 17
	if s := os.Getenv("IBMB_BENCH_RMAT_SCALE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("IBMB_BENCH_RMAT_SCALE: %v", err)
		}
		scale = v
	}
	g := rmatSymmetric(b, scale, 8)
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("scale=%d/workers=%d", scale, w), func(b *testing.B) { benchNodeWise(b, g, w) })
	}
}

// BenchmarkSetWiseGitHub runs batch-wise vectors over the GitHub graph:
// 377 sets of 100 consecutive nodes.
func BenchmarkSetWiseGitHub(b *testing.B) {
	g := loadKarateclub(b, "github")
	const size = 100
	ptr := []int64{0}
	nodes := make([]int64, 0, g.NumNodes)
	for u := range g.NumNodes {
		nodes = append(nodes, int64(u))
		if len(nodes)%size == 0 || u == g.NumNodes-1 {
			ptr = append(ptr, int64(len(nodes)))
		}
	}
	opt := Options{Alpha: benchAlpha, Eps: benchEps / size, TopK: 2048}
	var st Stats
	for range b.N {
		var err error
		_, st, err = SetWise(g, ptr, nodes, opt)
		if err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(ptr)-1)/sec, "sets/s")
	b.ReportMetric(float64(st.EdgePushes)/sec, "edgepushes/s")
}

// BenchmarkSelectTop measures the top-16 selection over 4096 candidates.
func BenchmarkSelectTop(b *testing.B) {
	c := make([]entry, 4096)
	work := make([]entry, len(c))
	for i := range c {
		c[i] = entry{score: float32((i*7919)%4096) / 4096, node: int32(i)}
	}
	for range b.N {
		copy(work, c)
		selectTop(work, benchTopK)
	}
}
