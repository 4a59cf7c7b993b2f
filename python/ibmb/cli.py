"""The ``ibmb`` command (also ``python -m ibmb``).

``ibmb demo`` is the main job on the built-in default graph: it generates a
contextual SBM graph, builds its normalized CSR, gathers the feature rows of
random mini-batches (checked against numpy), computes node-wise IBMB batches
for a 10% training split and materializes them into the batch arena,
reporting the time of each step. (Training and inference jobs arrive with the
IBMB loaders.)
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence

import numpy as np


def _table(rows: list[tuple[str, str]]) -> str:
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(w)}  {v}" for k, v in rows)


def demo(args: argparse.Namespace) -> int:
    import ibmb
    from ibmb.graph import CSRGraph

    rows: list[tuple[str, str]] = [("ibmb", ibmb.__version__), ("threads", str(ibmb.num_threads())),
                                   ("cuda", ibmb.cuda_status() or "available")]
    t = time.perf_counter()
    data = ibmb.datasets.csbm(num_nodes=args.nodes, num_classes=args.classes, avg_degree=args.degree,
                              num_features=args.features, seed=args.seed)
    rows.append(("generate graph", f"{time.perf_counter() - t:.3f} s  ({data.num_nodes:,} nodes, "
                 f"{data.edge_index.shape[1]:,} edges, {data.x.shape[1]} features)"))
    t = time.perf_counter()
    g = CSRGraph.from_edge_index(data.edge_index, data.num_nodes, symmetrize=True, drop_duplicates=True,
                                 add_self_loops=True)
    w = g.edge_weight("sym")
    rows.append(("build CSR (sym)", f"{time.perf_counter() - t:.3f} s  ({g.num_edges:,} edges, "
                 f"weights in [{w.min():.4f}, {w.max():.4f}])"))
    rng = np.random.default_rng(args.seed)
    batches = [rng.choice(data.num_nodes, size=min(args.batch, data.num_nodes), replace=False)
               for _ in range(args.batches)]
    out = np.empty((len(batches[0]), data.x.shape[1]), dtype=np.float32)
    t = time.perf_counter()
    for b in batches:
        ibmb.gather(data.x, b, out=out)
    dt = time.perf_counter() - t
    moved = sum(len(b) for b in batches) * data.x.shape[1] * 4
    t = time.perf_counter()
    for b in batches:
        ref = np.take(data.x, b, axis=0)
    dt_np = time.perf_counter() - t
    ok = all(np.array_equal(ibmb.gather(data.x, b), data.x[b]) for b in batches[:3])
    sub = g.induced(batches[0][: min(1000, len(batches[0]))])
    rows.append(("gather (ibmb)", f"{moved / dt / 1e9:.2f} GB/s  ({args.batches} batches of {len(batches[0]):,} rows)"))
    rows.append(("gather (numpy.take)", f"{moved / dt_np / 1e9:.2f} GB/s"))
    rows.append(("gather == numpy", str(ok)))
    rows.append(("induced subgraph", f"{sub.num_nodes:,} nodes, {sub.num_edges:,} edges"))
    del ref
    # IBMB: node-wise batches for a 10% training split, materialized into the arena.
    from ibmb.batching import Arena, node_wise

    train = np.sort(rng.choice(data.num_nodes, size=max(1, data.num_nodes // 10), replace=False))
    t = time.perf_counter()
    batches = node_wise(g, train, num_auxiliary_nodes=16, num_nodes_per_batch=1024, alpha=0.25, eps=2e-4)
    t_batches = time.perf_counter() - t
    arena = Arena.build(g, batches, x=data.x, y=data.y, norm="sym")
    t_arena = time.perf_counter() - t - t_batches
    rows.append(("IBMB node-wise", f"{t_batches:.3f} s  ({len(batches)} batches for {len(train):,} output nodes, "
                 f"top-16 PPR, <= 1024 outputs per batch)"))
    rows.append(("batch arena", f"{t_arena:.3f} s  ({arena.nbytes / 2**20:.0f} MiB: ids, mask, edges, weights, "
                 "labels, features)"))
    print("ibmb demo: built-in default graph (contextual SBM)")
    print(_table(rows))
    return 0 if ok else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="ibmb", description="Influence-based mini-batching for GNNs.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="cmd")
    d = sub.add_parser("demo", help="run the engine on the built-in default graph")
    d.add_argument("--nodes", type=int, default=100_000, help="nodes of the generated graph (default: 100000)")
    d.add_argument("--classes", type=int, default=10, help="classes (default: 10)")
    d.add_argument("--degree", type=float, default=10.0, help="average degree (default: 10)")
    d.add_argument("--features", type=int, default=64, help="feature width (default: 64)")
    d.add_argument("--batch", type=int, default=8192, help="rows per gathered batch (default: 8192)")
    d.add_argument("--batches", type=int, default=50, help="batches to gather (default: 50)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = p.parse_args(argv)
    if args.version:
        import ibmb

        print(ibmb.__version__)
        return 0
    if args.cmd == "demo":
        return demo(args)
    p.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
