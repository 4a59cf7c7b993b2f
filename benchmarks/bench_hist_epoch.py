"""Where a training epoch's time goes: ``ibmb-node`` against the history
methods (``ibmb-node-hist``, ``ibmb-batch-hist``, ``gas``; ``+agg``: with
``--agg-features``; ``+nocache``: halos recomputed every epoch, as
:class:`ibmb.nn.HaloLoader` does) on the same graph, same model (issue 14,
speed).

For each method it runs ``--epochs`` training epochs after one warm-up and
reports medians of: the whole epoch, waiting for batches (the IBMB loader,
plus for the history methods the Python halo expansion), history pulls and
pushes (engine gather/scatter, inside the model), and the rest (forward,
backward, optimizer); plus rows and edges per epoch against the graph's.

    PYTHONPATH=python python benchmarks/bench_hist_epoch.py --nodes 20000 --homophily 0.35 --separation 0.15
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from ibmb import data as D
from ibmb import train as T
from ibmb.history import HistoryStore
from ibmb.train import methods

_T = {"pull": 0.0, "push": 0.0}


def _timed(name: str, fn):
    def wrap(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            _T[name] += time.perf_counter() - t
    return wrap


HistoryStore.pull = _timed("pull", HistoryStore.pull)
HistoryStore.push = _timed("push", HistoryStore.push)


def epoch_profile(name: str, data, cfg: T.Config, epochs: int, nocache: bool = False) -> dict:
    T.seed_everything(0)
    m = methods.create(name, data, cfg)
    if nocache:
        m.cache_halos = False
    m.prepare()
    model = m.build_model(data.x.shape[1], int(data.y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rows = []
    for e in range(epochs + 1):
        model.train()
        _T["pull"] = _T["push"] = 0.0
        wait, n_rows, n_edges = 0.0, 0, 0
        t0 = time.perf_counter()
        it = iter(m.train_batches())
        while True:
            tw = time.perf_counter()
            b = next(it, None)
            wait += time.perf_counter() - tw
            if b is None:
                break
            n_rows += int(b.num_nodes)
            n_edges += int(b.edge_index.shape[1])
            m.train_step(model, b, opt)
        total = time.perf_counter() - t0
        if e:  # the first epoch is a warm-up
            rows.append((total, wait, _T["pull"], _T["push"], n_rows, n_edges))
    a = np.array(rows)
    med = np.median(a, axis=0)
    return dict(epoch=med[0], wait=med[1], pull=med[2], push=med[3], rows=med[4], edges=med[5])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=20000)
    p.add_argument("--homophily", type=float, default=0.35)
    p.add_argument("--separation", type=float, default=0.15)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--outputs-per-batch", type=int, default=1024)
    p.add_argument("--methods", default="ibmb-node,ibmb-node-hist+nocache,ibmb-node-hist,ibmb-node-hist+agg,ibmb-batch-hist,gas")
    a = p.parse_args()
    data = D.load("default", num_nodes=a.nodes, homophily=a.homophily, separation=a.separation)
    n, e = data.num_nodes, data.edge_index.shape[1]
    print(f"# {n:,} nodes, {e:,} directed edges; train {int(data.train_mask.sum())}; torch threads "
          f"{torch.get_num_threads()}; load {os.getloadavg()[0]:.1f}; medians of {a.epochs} epochs after a warm-up")
    print("| method | epoch | waiting for batches | history pull | history push | model (rest) | rows / epoch "
          "| edges / epoch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for spec in a.methods.split(","):
        name, *opts = spec.split("+")
        cfg = T.Config(num_nodes_per_batch=a.outputs_per_batch, progress=False, agg_features="agg" in opts)
        r = epoch_profile(name, data, cfg, a.epochs, nocache="nocache" in opts)
        base = r["epoch"] if name == "ibmb-node" else base
        rel = f" ({r['epoch'] / base:.2f}x)" if base else ""
        rest = r["epoch"] - r["wait"] - r["pull"] - r["push"]
        print(f"| {spec} | {r['epoch'] * 1e3:.0f} ms{rel} | {r['wait'] * 1e3:.0f} ms | {r['pull'] * 1e3:.0f} ms | "
              f"{r['push'] * 1e3:.0f} ms | {rest * 1e3:.0f} ms | {r['rows']:,.0f} | {r['edges']:,.0f} |", flush=True)
    print(f"graph: {n:,} rows, {e:,} edges (full batch adds self-loops)")


if __name__ == "__main__":
    main()
