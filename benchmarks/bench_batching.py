"""IBMB batch construction: ibmb beside PyG's IBMBNodeLoader/IBMBBatchLoader.

Builds node-wise and batch-wise batches for every node of a graph and
materializes them into the arena, reporting time, peak memory (ru_maxrss of
the measuring process, each measurement in its own process) and arena bytes.
Graphs: the GitHub graph (../shared/data; it has no node features, so both
sides get two structural ones: a constant and log(1 + degree)) and a generated CSBM graph (default 1M
nodes, 10M generated edges, 64 float32 features). PyG's loaders need
torch_sparse (and METIS inside it for batch-wise); where they cannot be
imported the table says so.

PyG's loaders run with batch_order="rand": with "order" or "sample" PyG 2.8.1
crashes under torch 2.11 (its samplers pass data_source to Sampler.__init__),
and ibmb's construction is timed without ordering too.

Batch-wise: PyG's IBMBBatchLoader partitions with METIS through torch_sparse
(SparseTensor.partition; benchmarks/install_pyg_metis.sh builds torch_sparse
with it) and ranks auxiliary nodes by 50 power iterations of topic-sensitive
PPR (its default); ibmb partitions with its own multilevel partitioner and
ranks them by push with eps. Without torch_sparse's METIS that row is skipped
with the reason. The "partition s" column is METIS inside PyG's constructor
(timed by wrapping its get_partitions) and ibmb.batching.partition; "batches s"
runs to the finished output/auxiliary node sets (before the per-batch
subgraphs/arena). Each batch-wise run is also checked: every output node in
exactly one batch, outputs inside their batch's nodes, mean batch size.

Settings: node-wise top-16 auxiliary nodes, at most 1024 output nodes per
batch, alpha 0.25, eps 2e-4; batch-wise 32 partitions (GitHub) / 256
(generated), expand ratio 1.0.

With --kaminpar (GitHub only; `pip install kaminpar`) a reference row swaps
ibmb's partitioner for KaMinPar's through ``partition(method="kaminpar")``
(default context, all cores; the time includes handing the graph over
through a file).

With --repeat N every row is the median (by total time) of N runs, each in
its own process; the run-to-run range of the total time is printed below the
table.

Usage: python benchmarks/bench_batching.py [--nodes 1000000] [--markdown FILE] [--graphs github --kaminpar]
                                          [--repeat 3] [--batch-only]
"""
from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np

from _common import github_edges, karateclub_csv, parse, parser, peak_mb, run_worker

ALPHA, EPS, TOPK, CAP, RATIO = 0.25, 2e-4, 16, 1024, 1.0


def load(name: str, nodes: int):
    """(edge_index [2, E] both directions, x or None, y, num_nodes)."""
    if name == "github":
        ei, n = github_edges()
        y = karateclub_csv("github", "target.csv")
        y = y[np.argsort(y[:, 0]), 1]
        # No node features ship with GitHub: structural ones (constant, log degree).
        deg = np.bincount(ei[0], minlength=n)
        x = np.stack([np.ones(n), np.log1p(deg)], axis=1).astype(np.float32)
        return ei, x, y, n
    import ibmb

    d = ibmb.datasets.csbm(num_nodes=nodes, num_classes=16, avg_degree=10, num_features=64, homophily=0.8,
                          separation=1.0, seed=0)
    g = ibmb.graph.CSRGraph.from_edge_index(d.edge_index, d.num_nodes, symmetrize=True, drop_duplicates=True)
    return g.edge_index(), d.x, d.y, d.num_nodes


def kaminpar_parts(g, k: int) -> tuple:
    """KaMinPar's partition of g (default context, all cores, 3% imbalance) through
    ``ibmb.batching.partition(method="kaminpar")``, timed whole (the graph goes to KaMinPar through a file)."""
    from ibmb.batching import partition

    return partition(g, k, method="kaminpar"), 0.0


def worker(method: str, name: str, nodes: int) -> dict:
    ei, x, y, n = load(name, nodes)
    parts_n = 32 if name == "github" else 256
    out = {"nodes": n, "edges": int(ei.shape[1])}
    base = peak_mb()
    if method.startswith("ibmb"):
        import ibmb
        from ibmb.arena import Arena
        from ibmb.batching import batch_wise, node_wise, partition

        t = time.perf_counter()
        g = ibmb.graph.CSRGraph.from_edge_index(ei, n)
        untimed = 0.0
        if method == "ibmb-node":
            b = node_wise(g, None, TOPK, CAP, alpha=ALPHA, eps=EPS, progress=False)
        else:
            t_part = time.perf_counter()
            if method == "ibmb-batch-kaminpar":
                parts, untimed = kaminpar_parts(g, parts_n)
            else:
                parts = partition(g, parts_n)
            out["partition_s"] = time.perf_counter() - t_part - untimed
            b = batch_wise(g, None, parts, parts_n, batch_expand_ratio=RATIO, alpha=ALPHA, eps=EPS, progress=False)
        t_batches = time.perf_counter() - t - untimed
        arena = Arena.build(g, b, x=x, y=y, norm="sym")
        out.update(seconds=time.perf_counter() - t - untimed, batches_s=t_batches, batches=len(b),
                   batch_nodes=int(b.nodes.shape[0]), arena_bytes=arena.nbytes,
                   graph_bytes=int(ei.nbytes + (x.nbytes if x is not None else 0) + y.nbytes))
        pairs = [b.batch(i) for i in range(len(b))] if method.startswith("ibmb-batch") else None
    else:
        import torch
        from torch_geometric.data import Data

        data = Data(edge_index=torch.from_numpy(ei), y=torch.from_numpy(y), num_nodes=n)
        if x is not None:
            data.x = torch.from_numpy(x)
        # PyG 2.8 no longer re-exports these from torch_geometric.loader.
        from torch_geometric.loader import ibmb_loader
        from torch_geometric.loader.ibmb_loader import IBMBBatchLoader, IBMBNodeLoader

        if method == "pyg-batch":
            missing = pyg_metis_missing()
            if missing:
                return {"skipped": missing}
            # Phase times from inside the constructor: wrap the module functions it calls.
            phase = {}

            def timed(fn, key):
                def wrapper(*a, **k):
                    t0 = time.perf_counter()
                    r = fn(*a, **k)
                    phase[key] = (t0, time.perf_counter())
                    return r
                return wrapper

            ibmb_loader.get_partitions = timed(ibmb_loader.get_partitions, "partition")
            ibmb_loader.create_batchwise_out_aux_pairs = timed(ibmb_loader.create_batchwise_out_aux_pairs, "pairs")
        t = time.perf_counter()
        if method == "pyg-node":
            loader = IBMBNodeLoader(data, batch_order="rand", input_nodes=torch.arange(n), num_auxiliary_nodes=TOPK,
                                    num_nodes_per_batch=CAP, alpha=ALPHA, eps=EPS, batch_size=1)
            pairs = None
        else:
            loader = IBMBBatchLoader(data, batch_order="rand", num_partitions=parts_n, input_nodes=torch.arange(n),
                                     batch_expand_ratio=RATIO, alpha=ALPHA, batch_size=1)
        out.update(seconds=time.perf_counter() - t, batches=len(loader))
        if method == "pyg-batch":
            out.update(partition_s=phase["partition"][1] - phase["partition"][0], batches_s=phase["pairs"][1] - t,
                       ppr_device=str(torch.device("cuda" if torch.cuda.is_available() else "cpu")))
            pairs = [(np.asarray(o), np.asarray(a)) for o, a in loader.batch_wise_out_aux_pairs]
            out["batch_nodes"] = int(sum(len(a) for _, a in pairs))
    out["peak_mb"] = peak_mb()
    out["added_mb"] = peak_mb() - base
    if pairs is not None:  # after the peak: the check is not part of construction
        out["check"] = check_batches(pairs, n)
    return out


def pyg_metis_missing() -> str | None:
    """Why PyG's IBMBBatchLoader cannot partition here, or None when torch_sparse's METIS works."""
    try:
        import torch
        from torch_sparse import SparseTensor
    except ImportError as e:
        return f"torch_sparse not importable ({e})"
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    try:
        SparseTensor.from_edge_index(ei, sparse_sizes=(4, 4)).partition(num_parts=2, recursive=False, weighted=False)
    except RuntimeError as e:
        return f"torch_sparse has no METIS ({str(e).splitlines()[0]}); see benchmarks/install_pyg_metis.sh"
    return None


def check_batches(pairs, n: int) -> dict:
    """pairs: [(output nodes, all nodes)] per batch."""
    outs = np.concatenate([o for o, _ in pairs]) if pairs else np.zeros(0, np.int64)
    count = np.bincount(outs, minlength=n)
    sizes = np.array([len(a) for _, a in pairs])
    return {"outputs_once": bool((count == 1).all()), "outputs_missing": int((count == 0).sum()),
            "outputs_repeated": int((count > 1).sum()),
            "outputs_in_nodes": bool(all(np.isin(o, a).all() for o, a in pairs)),
            "mean_nodes": float(sizes.mean()), "min_nodes": int(sizes.min()), "max_nodes": int(sizes.max()),
            "mean_outputs": float(len(outs) / len(pairs))}


def run(method: str, name: str, nodes: int) -> dict:
    try:
        return run_worker(__file__, method, name, "nodes", nodes)
    except RuntimeError as e:
        return {"error": str(e).strip().splitlines()[-1][:160]}


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--markdown")
    ap.add_argument("--skip-pyg", action="store_true")
    ap.add_argument("--graphs", default="github,csbm", help="comma-separated: github, csbm")
    ap.add_argument("--kaminpar", action="store_true",
                    help="GitHub: also a reference row with KaMinPar's partition (pip install kaminpar), not shipped")
    ap.add_argument("--repeat", type=int, default=1, help="median of this many runs (each in its own process)")
    ap.add_argument("--batch-only", action="store_true", help="only the batch-wise rows (no node-wise)")
    args = parse(ap, worker, "nodes")
    if args is None:
        return
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores; alpha {ALPHA}, eps {EPS}, top-k {TOPK}, "
             f"cap {CAP} outputs per batch, expand ratio {RATIO}; every node an output node; "
             f"load average at start {'/'.join(f'{x:.2f}' for x in os.getloadavg())}", "",
             "| graph | nodes | edges | method | total s | partition s | batches s | batches | batch nodes | arena MB | graph MB | peak RSS MB | vs PyG |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    notes = []
    for name in args.graphs.split(","):
        ref = {}
        for method in ("pyg-node", "ibmb-node", "pyg-batch", "ibmb-batch", "ibmb-batch-kaminpar"):
            if method.startswith("pyg") and (args.skip_pyg or name != "github"):
                continue
            if args.batch_only and method.endswith("node"):
                continue
            if method == "ibmb-batch-kaminpar" and (not args.kaminpar or name != "github"):
                continue
            runs = [run(method, name, args.nodes) for _ in range(max(1, args.repeat))]
            ok = sorted((x for x in runs if "seconds" in x), key=lambda x: x["seconds"])
            r = ok[len(ok) // 2] if ok else runs[0]
            if len(ok) > 1:
                notes.append(f"- {name}, {method}: total s over {len(ok)} runs: "
                             + ", ".join(f"{x['seconds']:.2f}" for x in ok) + f" (median {r['seconds']:.2f})")
            kind = method.split("-")[1]  # node / batch
            if method.startswith("pyg"):
                ref[kind] = r
            label = {"pyg-node": "PyG IBMBNodeLoader", "ibmb-node": "ibmb node_wise + Arena",
                     "pyg-batch": "PyG IBMBBatchLoader", "ibmb-batch": "ibmb partition + batch_wise + Arena",
                     "ibmb-batch-kaminpar": "ibmb batch_wise with partition(method='kaminpar') + Arena"}[method]
            if "error" in r or "skipped" in r:
                why = f"not run: {r['error']}" if "error" in r else f"skipped: {r['skipped']}"
                row = f"| {name} | | | {label} | {why} | | | | | | | | |"
                if "skipped" in r:
                    print(f"{label} on {name} skipped: {r['skipped']}", file=sys.stderr, flush=True)
            else:
                pr = ref.get(kind, {})
                speed = f"{pr['seconds'] / r['seconds']:.1f}x" if "seconds" in pr and method.startswith("ibmb") else ""
                part = f"{r['partition_s']:.2f}" if "partition_s" in r else ""
                row = (f"| {name} | {r['nodes']:,} | {r['edges']:,} | {label} | {r['seconds']:.2f} | {part} | "
                       f"{r.get('batches_s', float('nan')):.2f} | {r['batches']} | {r.get('batch_nodes', '')} | "
                       f"{r.get('arena_bytes', 0) / 2**20:.0f} | {r.get('graph_bytes', 0) / 2**20:.0f} | "
                       f"{r['peak_mb']:.0f} | {speed} |")
                if method.startswith("ibmb-batch") and "partition_s" in pr:
                    rest_pyg, rest_ibmb = pr["seconds"] - pr["partition_s"], r["seconds"] - r["partition_s"]
                    notes.append(f"- {name}, batch-wise split: partitioning {pr['partition_s']:.2f} s (PyG: METIS via "
                                 f"SparseTensor.partition) vs {r['partition_s']:.2f} s ({label}); "
                                 f"everything else {rest_pyg:.2f} s (PyG) vs {rest_ibmb:.2f} s (ibmb), "
                                 f"{rest_pyg / rest_ibmb:.1f}x; total {speed}")
                if "check" in r:
                    c = r["check"]
                    dev = f"; PyG's PPR on {r['ppr_device']}" if "ppr_device" in r else ""
                    notes.append(f"- {name}, {label}: {r['batches']} batches; every output node in exactly one batch: "
                                 f"{c['outputs_once']} (missing {c['outputs_missing']}, repeated "
                                 f"{c['outputs_repeated']}); outputs inside their batch: {c['outputs_in_nodes']}; "
                                 f"nodes per batch mean {c['mean_nodes']:.1f} (min {c['min_nodes']}, max "
                                 f"{c['max_nodes']}), outputs per batch mean {c['mean_outputs']:.1f}{dev}")
            lines.append(row)
            print(row, flush=True)
    notes.append(f"- load average at end {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    if notes:
        lines += [""] + notes
        print("\n" + "\n".join(notes), flush=True)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
