"""PPR push: ibmb beside torch_geometric.utils.get_ppr (numba) in one run.

Settings (issue 3): alpha 0.25, eps 2e-4, top-k 16, every node a target, on
the GitHub graph (../shared/data, both edge directions) and on a generated
R-MAT power-law graph (default scale 20: 1,048,576 nodes, 10.5M generated
edges, symmetrized). Each measurement runs in its own process, so its peak
memory (ru_maxrss) is its own; "PPR memory" is the peak minus the memory held
before the PPR call (graph loaded, numba compiled).

PyG 2.8's get_ppr has no top-k and returns every entry, so it is run on all
targets in chunks (outputs dropped after each chunk) to bound its memory; its
time is the sum over chunks. ibmb is timed with top-k 16 (the benchmark
setting) and also as the get_ppr drop-in (every entry, PyG's LIFO order).

Usage: python benchmarks/bench_ppr.py [--scale 20] [--skip-pyg-large] [--markdown FILE]
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np

from _common import github_edges, parse, parser, peak_mb, run_worker

ALPHA, EPS, TOPK = 0.25, 2e-4, 16


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_graph(name: str, scale: int) -> tuple[np.ndarray, int]:
    """[2, E] int64 edge_index with both directions, and the node count."""
    if name == "github":
        return github_edges()
    import ibmb

    d = ibmb.datasets.rmat(scale, edge_factor=10, seed=1)
    g = ibmb.graph.CSRGraph.from_edge_index(d.edge_index, d.num_nodes, symmetrize=True, drop_duplicates=True)
    return g.edge_index(), d.num_nodes


def worker(method: str, name: str, scale: int) -> dict:
    ei, n = load_graph(name, scale)
    out: dict = {"nodes": n, "edges": int(ei.shape[1])}
    if method.startswith("ibmb"):
        import ibmb
        from ibmb.ppr import node_ppr

        g = ibmb.graph.CSRGraph.from_edge_index(ei, n)
        del ei
        base = rss_mb()
        t = time.perf_counter()
        if method == "ibmb-topk":
            res = node_ppr(g, alpha=ALPHA, eps=EPS, topk=TOPK, progress=False)
        else:  # the get_ppr drop-in: every entry, PyG's LIFO push order
            res = node_ppr(g, alpha=ALPHA, eps=EPS, topk=None, progress=False, order="lifo")
        out["seconds"] = time.perf_counter() - t
        out.update(pushes=res.pushes, edge_pushes=res.edge_pushes, entries=int(res.nodes.shape[0]),
                   threads=ibmb.num_threads())
    else:
        import numba
        import torch
        from torch_geometric.utils import get_ppr

        ei_t = torch.from_numpy(ei)
        get_ppr(torch.tensor([[0, 1], [1, 0]]), alpha=ALPHA, eps=EPS)  # numba compile, not timed
        base = rss_mb()
        chunk = 1 << 16
        entries = 0
        t = time.perf_counter()
        for lo in range(0, n, chunk):
            target = torch.arange(lo, min(lo + chunk, n))
            e_out, w = get_ppr(ei_t, alpha=ALPHA, eps=EPS, target=target, num_nodes=n)
            entries += int(w.numel())
            del e_out, w
        out["seconds"] = time.perf_counter() - t
        out.update(entries=entries, threads=numba.get_num_threads())
    out["ppr_mb"] = peak_mb() - base
    out["peak_mb"] = peak_mb()
    return out


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--scale", type=int, default=20, help="R-MAT scale of the generated graph (default: 20)")
    ap.add_argument("--skip-pyg-large", action="store_true", help="do not run PyG on the generated graph")
    ap.add_argument("--markdown", help="append the table to this file")
    args = parse(ap, worker, "scale")
    if args is None:
        return

    graphs = ["github", "rmat"]
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores; alpha {ALPHA}, eps {EPS}, top-k {TOPK}, "
             "every node a target", "",
             "| graph | nodes | edges | method | seconds | nodes/s | edge pushes/s | entries | PPR memory MB | peak RSS MB | speed-up vs PyG |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name in graphs:
        results = {}
        for method in ("pyg", "ibmb-all", "ibmb-topk"):
            if method == "pyg" and name == "rmat" and args.skip_pyg_large:
                continue
            results[method] = r = run_worker(__file__, method, name, "scale", args.scale)
            ref = results.get("pyg")
            speed = f"{ref['seconds'] / r['seconds']:.1f}x" if ref and method != "pyg" else ""
            ep = f"{r['edge_pushes'] / r['seconds']:.3g}" if "edge_pushes" in r else ""
            label = {"pyg": f"PyG get_ppr (numba, {r['threads']} threads)",
                     "ibmb-all": f"ibmb get_ppr drop-in (all entries, LIFO, {r['threads']} threads)",
                     "ibmb-topk": f"ibmb node_ppr top-{TOPK} (FIFO, {r['threads']} threads)"}[method]
            row = (f"| {name if name == 'github' else f'R-MAT {args.scale}'} | {r['nodes']:,} | {r['edges']:,} | "
                   f"{label} | {r['seconds']:.2f} | {r['nodes'] / r['seconds']:,.0f} | {ep} | {r['entries']:,} | "
                   f"{r['ppr_mb']:.0f} | {r['peak_mb']:.0f} | {speed} |")
            lines.append(row)
            print(row, flush=True)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
