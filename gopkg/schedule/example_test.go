package schedule_test

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/gopkg/schedule"
)

func Example() {
	// Six nodes with classes 0/1 (node 5 unlabelled), four batches of output nodes.
	labels := []int64{0, 0, 1, 1, 0, -1}
	batchPtr := []int64{0, 2, 4, 6, 8}
	batchNodes := []int64{0, 1, 2, 3, 4, 5, 0, 2}
	counts, err := schedule.LabelCounts(labels, batchPtr, batchNodes, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("counts:", counts)
	dist := schedule.Distances(counts, 2)
	fmt.Printf("d(0,1) = %.4f (ln 3)\n", dist[0*4+1])
	order := schedule.Order(dist, 4, 1)
	fmt.Println("order:", order)
	fmt.Printf("path sum: %.4f\n", schedule.PathSum(dist, 4, order))
	// Output:
	// counts: [[2 0] [0 2] [1 0] [1 1]]
	// d(0,1) = 1.0986 (ln 3)
	// order: [2 1 0 3]
	// path sum: 2.1198
}
