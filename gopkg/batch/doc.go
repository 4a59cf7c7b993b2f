// Package batch builds the mini-batches of influence-based mini-batching
// (IBMB, Gasteiger, Qian and Günnemann, 2022): groups of output nodes
// together with the auxiliary nodes that influence them most, measured by
// personalized PageRank (package ppr).
//
//   - NodeWise computes the top-k PPR nodes of every output node, clusters
//     the output nodes greedily by their mutual PPR affinity under a cap on
//     the outputs per batch, and gives each cluster the union of its
//     outputs' top-k nodes.
//   - BatchWise takes a partition of the graph (one part id per node, from
//     a graph partitioner run by the caller), makes one batch per part that
//     holds output nodes, and adds the top-k nodes of the topic-sensitive
//     PPR vector seeded uniformly by the part's output nodes.
//
// # Representation and invariants
//
// Batches stores the batches in CSR form: batch b has the output nodes
// Out[OutPtr[b]:OutPtr[b+1]] and the nodes Nodes[NodePtr[b]:NodePtr[b+1]].
// Every Batches returned by this package satisfies, and
// (*Batches).Validate(numNodes, outputs) checks:
//
//   - OutPtr and NodePtr have the same length, one more than the number of
//     batches, start at 0, never decrease and end at len(Out) and
//     len(Nodes);
//   - every id lies in [0, numNodes);
//   - every batch has at least one output node, its output nodes are
//     strictly ascending and its nodes are strictly ascending (sorted and
//     distinct);
//   - the output nodes of a batch are among its nodes;
//   - every distinct node of the requested outputs is an output node of
//     exactly one batch, and no other node is an output node.
//
// # Inputs
//
// Output nodes may be given in any order and with repeats: both builders
// work on the ascending set of distinct outputs, so a permuted or repeated
// list gives exactly the same batches. (PyG's IBMB port pairs np.unique-sorted
// counts with unsorted rows and so scrambles unsorted inputs; this package
// does not.)
//
// # Determinism and parallelism
//
// The PPR vectors are computed by ppr with Options.Workers goroutines and
// are identical for any number of workers; the clustering is sequential
// with deterministic tie-breaking, and the per-batch unions are computed in
// parallel into per-batch slots with one stamp array per worker (no maps).
// The result therefore depends only on the graph, the set of outputs, the
// part assignment and the options other than Workers and Progress.
//
// # Errors
//
// Errors caused by the inputs wrap graph.ErrIndex (an output node or part
// id out of range) or graph.ErrValue (anything else: no outputs, bad sizes
// or options, an invalid graph), so callers can map them with errors.Is.
package batch

// # Arena
//
// Batches.Materialize (or BuildArena) writes every batch into one
// contiguous block outside the Go heap: node ids, output mask, the local
// edge_index of the induced subgraph with weights normalized within the
// batch, labels and, optionally, the gathered feature rows. A batch is a set
// of views into that block (Arena.Batch). WriteFile saves the block as is
// (atomically, keeping the mode of a file it replaces, removing temporary
// files of writers that died) and OpenFile maps it back; DecodeArena reads
// the same bytes from memory. Verified or not, a load checks the file size
// against the header and every offset, count and id the views index with;
// verify adds the payload checksum. A saved file must not be truncated or
// modified in place while it is open (its pages would fault with SIGBUS).
