"""Halo batches in the arena (issue 14 item 2): bytes and build time with
and without the one-hop halo, on Cora (public train split) and on the
built-in 100k-node CSBM graph (10% of the nodes as outputs).

For each graph the same IBMB node-wise batches (top-16 PPR auxiliary nodes,
256 outputs per batch, alpha 0.25, eps 2e-4, features stored) are
materialized twice in the same run: as plain batches (``norm="sym"`` with
self-loops, the training jobs' values) and as halo batches (``halo=True``:
GCN's full-graph weights); it prints nodes, edges and arena bytes of both,
the build times, and the time of one pass over the interim-style
per-batch expansion (``ibmb.nn.HaloLoader`` over the plain loader, which
now also runs in the engine) beside one pass over the stored halo batches.

Example:
    PYTHONPATH=python python benchmarks/bench_halo.py
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import ibmb
from ibmb import data as D
import ibmb.nn as inn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import load_cora  # noqa: E402


def graphs(nodes: int):
    cora = load_cora(Path(tempfile.mkdtemp(prefix="ibmb-cora-")))
    yield "cora", cora, cora.train_mask
    data = D.load("default", num_nodes=nodes, homophily=0.35, separation=0.15)
    train = np.random.default_rng(0).choice(data.num_nodes, data.num_nodes // 10, replace=False)
    yield f"csbm{nodes // 1000}k", data, torch.from_numpy(np.sort(train))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=100_000)
    args = p.parse_args()
    kw = dict(num_auxiliary_nodes=16, num_nodes_per_batch=256, alpha=0.25, eps=2e-4, store_features=True,
              progress=False)
    print(f"{'graph':10} {'batches':>7} {'kind':6} {'nodes':>10} {'edges':>11} {'arena MiB':>10} {'build s':>8} "
          f"{'pass s':>7}")
    for name, data, train in graphs(args.nodes):
        plain, tp = timed(lambda: ibmb.IBMBNodeLoader(data, None, train, norm="sym", add_self_loops=True, **kw))
        halo, th = timed(lambda: ibmb.IBMBNodeLoader(data, None, train, halo=True, **kw))
        h = inn.Halo(data.edge_index, data.num_nodes, add_self_loops=True, norm="sym")
        _, pass_expand = timed(lambda: sum(b.num_exact for b in inn.HaloLoader(plain, h, data)))
        _, pass_stored = timed(lambda: sum(b.num_exact for b in halo))
        for kind, loader, t, tpass in (("plain", plain, tp, pass_expand), ("halo", halo, th, pass_stored)):
            s = loader.stats()
            print(f"{name:10} {s['num_batches']:7d} {kind:6} {s['num_nodes']:10,d} {s['num_edges']:11,d} "
                  f"{s['arena_bytes'] / 2**20:10.1f} {t:8.2f} {tpass:7.2f}")
    print("pass s: one pass over the batches with halos (plain: expanded per batch by ibmb.nn.HaloLoader; "
          "halo: stored in the arena)")


if __name__ == "__main__":
    main()
