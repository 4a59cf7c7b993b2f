package bindings

import (
	"context"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
)

// ArenaBatches starts a job that reads the batch description of arena h
// (outputs and sorted nodes of every batch, see batch.Arena.Batches) and
// returns its handle; read the batches with BatchesShape and BatchesCopy
// once it has finished. The arena must not be freed before the job has
// finished.
func ArenaBatches(h int) (j int, err error) {
	defer guard(&err)
	a, err := get[*batch.Arena](h)
	if err != nil {
		return 0, err
	}
	return startJob(func(ctx context.Context, _ func(int, int)) (any, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return a.Batches()
	}), nil
}

// GraphReweighted returns the handle of a new graph with the nodes and edges
// of graph gh whose edge weights are gh's weights normalized by norm ("sym",
// "rw" or "none") over the whole graph. Arenas and step inducers built over
// it with norm "none" carry these full-graph weights restricted to each
// batch (what PyTorch Geometric's IBMB loaders give). The new graph shares
// gh's structure arrays, which graphs never modify.
func GraphReweighted(gh int, norm string) (h int, err error) {
	defer guard(&err)
	g, w, err := normalizedWeights(gh, norm)
	if err != nil {
		return 0, err
	}
	return put(&graph.CSR{NumNodes: g.NumNodes, Indptr: g.Indptr, Indices: g.Indices, Weights: w}), nil
}
