// Command ibmb shows the IBMB pipeline called directly from Go: generate the
// built-in default graph, compute node-wise and batch-wise IBMB batches for a
// 10% training split, order them by label distance, materialize them into
// one contiguous arena, save it, map it back, and walk one epoch of batches.
//
//	go run ./examples/go/ibmb
package main

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/batch"
	"github.com/ibmb-dev/ibmb/gopkg/graph"
	"github.com/ibmb-dev/ibmb/gopkg/partition"
	"github.com/ibmb-dev/ibmb/gopkg/schedule"
	"github.com/ibmb-dev/ibmb/gopkg/synth"
)

func main() {
	start := time.Now()
	data, err := synth.DefaultCSBM().Generate()
	if err != nil {
		log.Fatal(err)
	}
	g, err := graph.FromCOO(data.Src, data.Dst, data.NumNodes, graph.Options{Symmetrize: true, DropDuplicates: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("graph: %d nodes, %d edges (%v)\n", g.NumNodes, g.NumEdges(), time.Since(start).Round(time.Millisecond))

	// A random 10% of the nodes are the output (training) nodes.
	rng := rand.New(rand.NewPCG(1, 2))
	train := make([]int64, 0, g.NumNodes/10)
	for _, v := range rng.Perm(g.NumNodes)[:g.NumNodes/10] {
		train = append(train, int64(v))
	}
	slices.Sort(train)

	t := time.Now()
	nw, err := batch.NodeWise(g, train, batch.NodeWiseOptions{NumAuxNodes: 16, MaxOutputsPerBatch: 1024, Alpha: 0.25, Eps: 2e-4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("node-wise: %d batches, %d batch nodes (%v)\n", nw.NumBatches(), len(nw.Nodes), time.Since(t).Round(time.Millisecond))

	t = time.Now()
	numParts := 16
	parts, err := partition.Partition(g, partition.Options{Parts: numParts})
	if err != nil {
		log.Fatal(err)
	}
	bw, err := batch.BatchWise(g, train, parts, numParts, batch.BatchWiseOptions{ExpandRatio: 1, Alpha: 0.25, Eps: 2e-4})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("batch-wise: %d batches, %d batch nodes (%v)\n", bw.NumBatches(), len(bw.Nodes), time.Since(t).Round(time.Millisecond))

	// Training order: consecutive batches far apart in label distribution.
	counts, err := schedule.LabelCounts(data.Y, nw.OutPtr, nw.Out, data.NumClasses)
	if err != nil {
		log.Fatal(err)
	}
	order := schedule.Order(schedule.Distances(counts, data.NumClasses), nw.NumBatches(), 0)

	// The arena: ids, mask, local edges with sym-normalized weights, labels, features.
	t = time.Now()
	arena, err := nw.Materialize(g, batch.ArenaOptions{Norm: graph.NormSym, Labels: data.Y,
		X: unsafe.Pointer(&data.X[0]), RowBytes: int64(4 * data.NumFeatures), DType: batch.DTypeFloat32})
	if err != nil {
		log.Fatal(err)
	}
	defer arena.Close()
	path := filepath.Join(os.TempDir(), "ibmb-example.ibmb")
	if err := arena.WriteFile(path); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)
	loaded, err := batch.OpenFile(path, true)
	if err != nil {
		log.Fatal(err)
	}
	defer loaded.Close()
	fmt.Printf("arena: %.1f MiB, saved and mapped back (%v)\n", float64(loaded.Size())/(1<<20), time.Since(t).Round(time.Millisecond))

	// One epoch: every batch is a set of slices into the mapped file.
	var nodes, edges, outputs int
	for _, b := range order {
		v := loaded.Batch(b)
		nodes += len(v.NID)
		edges += len(v.Src)
		outputs += v.NumOut
	}
	fmt.Printf("epoch: %d batches, %d nodes, %d edges, %d output nodes (of %d)\n", len(order), nodes, edges, outputs, len(train))
}
