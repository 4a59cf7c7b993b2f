package batch

import (
	"slices"
	"testing"

	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/ppr"
)

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

// BenchmarkNodeWiseAffinityRule compares the node-wise affinity rule of
// NodeWise (pairs from whole eps-truncated PPR rows, the reference's rule)
// with the former one (pairs from the top-k rows only) on GitHub: time for
// steps 1–5 and the batches they give, for ibmb's job parameters over all
// nodes and for PyG's defaults over a 10% sample.
func BenchmarkNodeWiseAffinityRule(b *testing.B) {
	g := loadGithub(b)
	for _, c := range []struct {
		name    string
		outputs []int64
		opt     NodeWiseOptions
	}{
		{"jobs-all", iota64(g.NumNodes), NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 1024, Alpha: 0.25, Eps: 2e-4}},
		{"pyg-10pct", sample(3, g.NumNodes, g.NumNodes/10), NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 256, Alpha: 0.2, Eps: 1e-5}},
	} {
		b.Run(c.name+"/whole-rows", func(b *testing.B) {
			var res *Batches
			for b.Loop() {
				var err error
				if res, err = NodeWise(g, c.outputs, c.opt); err != nil {
					b.Fatal(err)
				}
			}
			reportBatches(b, res)
		})
		b.Run(c.name+"/topk-rows-before", func(b *testing.B) {
			var res *Batches
			for b.Loop() {
				res = nodeWiseTopKRows(b, g, c.outputs, c.opt)
			}
			reportBatches(b, res)
		})
	}
}

// nodeWiseTopKRows is NodeWise with the former affinity rule: pairs only
// from the top-k rows.
func nodeWiseTopKRows(b *testing.B, g *graph.CSR, outputs []int64, opt NodeWiseOptions) *Batches {
	distinct := slices.Clone(outputs)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	res, _, err := ppr.NodeWise(g, distinct, ppr.Options{Alpha: opt.Alpha, Eps: opt.Eps, TopK: opt.NumAuxNodes})
	if err != nil {
		b.Fatal(err)
	}
	pos := make([]int32, g.NumNodes)
	for i := range pos {
		pos[i] = -1
	}
	for i, v := range distinct {
		pos[v] = int32(i)
	}
	pairs, _ := affinityPairs(len(distinct), res.Row, pos, 0, nil)
	out, _ := nodeWiseFromPPR(g.NumNodes, distinct, res, pairs, opt.MaxOutputsPerBatch, 0, nil)
	return out
}

func reportBatches(b *testing.B, res *Batches) {
	b.ReportMetric(float64(res.NumBatches()), "batches")
	b.ReportMetric(float64(len(res.Out))/float64(res.NumBatches()), "outputs/batch")
	b.ReportMetric(float64(len(res.Nodes))/float64(len(res.Out)), "nodes/output")
}
