// Package synth generates graphs with node features and labels, so that the
// engine, its examples and its benchmarks run with no downloaded data.
//
// Two generators are provided:
//
//   - CSBM, a contextual stochastic block model: nodes belong to classes,
//     edges fall inside a node's own class with probability Homophily, and
//     each node's features are its class mean plus Gaussian noise. It is the
//     built-in default graph of the ibmb command.
//   - RMAT, the recursive-matrix model of Chakrabarti et al., which gives the
//     skewed (power-law like) degree distributions of real networks; used for
//     scale benchmarks of PPR and batching.
//
// Three tiny fixed graphs, Path4, Barbell and Lollipop, come ready as
// undirected CSR graphs (each drawn in its doc comment), so that examples
// and tests in every package can show their results on a graph the reader
// sees whole.
//
// Invariants: output is a pure function of the configuration, including the
// seed: the same Config gives bit-identical edges, features and labels for
// any GOMAXPROCS, because work is cut into fixed-size chunks whose random
// streams are seeded from (seed, chunk index), never from the worker.
// Edges are directed pairs (Src[i], Dst[i]) in PyG's edge_index order;
// callers symmetrize them when they want an undirected graph.
//
// Errors: a bad configuration value is an error wrapping ErrValue; a graph
// larger than the memory the machine can give (edges, labels, features and
// class means together) is refused before anything is allocated with an
// error wrapping memlimit.ErrMemory that names the sizes.
package synth
