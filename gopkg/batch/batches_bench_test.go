package batch

import "testing"

func BenchmarkNodeWiseGithub(b *testing.B) {
	g := loadGithub(b)
	outputs := iota64(g.NumNodes)
	opt := NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 1024, Alpha: 0.25, Eps: 2e-4}
	var res *Batches
	for b.Loop() {
		var err error
		if res, err = NodeWise(g, outputs, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.NumBatches()), "batches")
	b.ReportMetric(float64(len(res.Nodes))/float64(len(res.Out)), "nodes/output")
}

func BenchmarkBatchWiseGithub(b *testing.B) {
	g := loadGithub(b)
	outputs := iota64(g.NumNodes)
	const numParts = 32
	parts := modParts(g.NumNodes, numParts)
	opt := BatchWiseOptions{ExpandRatio: 0.1, Alpha: 0.25, Eps: 2e-4}
	var res *Batches
	for b.Loop() {
		var err error
		if res, err = BatchWise(g, outputs, parts, numParts, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.NumBatches()), "batches")
	b.ReportMetric(float64(len(res.Nodes))/float64(len(res.Out)), "nodes/output")
}
