"""Accuracy of GNNs with historical embeddings on IBMB batches (ibmb.nn).

Cora, public split. Methods (same model, hyperparameters and seeds):

- ``full``: full-batch training and evaluation (the baseline).
- ``hist``: IBMBNodeLoader batches over the training nodes (top-k PPR
  auxiliary nodes), each expanded by its one-hop halo (ibmb.nn.Halo, the
  interim Python halo); every batch node is computed exactly, halo nodes'
  hidden embeddings come from the histories. Evaluation is exact layer-wise
  inference (ibmb.nn.HistoryGNN.inference), which also refreshes every
  history; it runs every ``--refresh-every`` epochs (staleness knob).

Model selection: the test accuracy at the epoch of best validation accuracy
(as GAS's small benchmark), both methods validated the same way (exact
inference equals the full-batch forward). Reported beside it (never used for
the bars): the test accuracy at the epoch of lowest validation loss (GCNII's
own protocol). ``--trace FILE`` writes every evaluation (epoch, validation
accuracy and loss, test accuracy) as JSON lines.

Example:
    PYTHONPATH=python python benchmarks/bench_history.py --model gcn --seeds 0 1 2
    PYTHONPATH=python python benchmarks/bench_history.py --model gcnii --methods hist --seeds 0 --log-every 50
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import ibmb
import ibmb.nn as inn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import load_cora  # noqa: E402

# GAS's small-benchmark hyperparameters for Cora (rusty1s/pyg_autoscale, conf/model/{gcn,gcn2}.yaml).
PRESETS = {
    "gcn": dict(hidden=16, layers=2, dropout=0.5, lr=0.01, wd_reg=5e-4, wd_nonreg=0.0, grad_norm=1.0, epochs=200),
    "gcnii": dict(hidden=64, layers=16, dropout=0.6, lr=0.01, wd_reg=0.01, wd_nonreg=5e-4, grad_norm=None,
                  epochs=1000),
}


def build(kind: str, data, a) -> inn.HistoryGNN:
    if kind == "gcn":
        return inn.GCN(data.num_nodes, data.num_features, a.hidden, 7, num_layers=a.layers, dropout=a.dropout)
    return inn.GCNII(data.num_nodes, data.num_features, a.hidden, 7, num_layers=a.layers, alpha=0.1, theta=0.5,
                     dropout=a.dropout)


def optimizer(kind: str, model, a) -> torch.optim.Optimizer:
    if kind == "gcn":  # weight decay on the first layer only (Kipf & Welling; GAS)
        reg, nonreg = list(model.convs[:-1].parameters()), list(model.convs[-1].parameters())
    else:  # GCNII: convs regularized strongly, linear layers lightly
        reg, nonreg = list(model.convs.parameters()), list(model.lins.parameters())
    return torch.optim.Adam([dict(params=reg, weight_decay=a.wd_reg), dict(params=nonreg, weight_decay=a.wd_nonreg)],
                            lr=a.lr)


def accuracy(out, data, mask) -> float:
    return float((out[mask].argmax(-1) == data.y[mask]).float().mean())


def run(method: str, kind: str, data, a, seed: int) -> dict:
    torch.manual_seed(seed)
    model = build(kind, data, a)
    opt = optimizer(kind, model, a)
    halo = model.halo(data.edge_index)
    ei, ew = halo.full()
    eval_batches = halo.batches(a.infer_batch)
    train = data.train_mask.nonzero().view(-1)
    loader = None
    if method == "hist":
        base = ibmb.IBMBNodeLoader(data, "rand", data.train_mask, a.aux, a.per_batch, seed=seed, progress=False)
        loader = inn.HaloLoader(base, halo, data)
        model.inference(data.x, halo, batches=eval_batches)  # fill the histories before training
    best_val, test_at_best, best_epoch, t_train, rows, edges = -1.0, 0.0, 0, 0.0, 0, 0
    best_loss, test_at_loss = float("inf"), 0.0
    trace = open(a.trace, "a") if a.trace else None
    t_start = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        steps = [None] if loader is None else loader
        for b in steps:
            opt.zero_grad()
            if b is None:
                out = model(data.x, ei, ew)[train]
                y = data.y[train]
                rows, edges = rows + data.num_nodes, edges + ei.shape[1]
            else:
                out = model(b.x, b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=b.num_exact)[:b.batch_size]
                y = b.y[:b.batch_size]
                rows, edges = rows + b.n_id.shape[0], edges + b.edge_index.shape[1]
            F.cross_entropy(out, y).backward()
            if a.grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_norm)
            opt.step()
        t_train += time.perf_counter() - t0
        if epoch % a.refresh_every and epoch != a.epochs:
            continue
        if method == "hist":
            out = model.inference(data.x, halo, batches=eval_batches)
        else:
            model.eval()
            with torch.no_grad():
                out = model(data.x, ei, ew)
        val, test = accuracy(out, data, data.val_mask), accuracy(out, data, data.test_mask)
        val_loss = float(F.cross_entropy(out[data.val_mask], data.y[data.val_mask]))
        if val > best_val:
            best_val, test_at_best, best_epoch = val, test, epoch
        if val_loss < best_loss:
            best_loss, test_at_loss = val_loss, test
        if trace is not None:
            trace.write(json.dumps(dict(method=method, seed=seed, layers=a.layers, epoch=epoch, val=val,
                                        val_loss=val_loss, test=test)) + "\n")
        if a.log_every and (epoch % a.log_every == 0 or epoch == a.epochs):
            print(f"  [{method} seed {seed}] epoch {epoch:5d}: val {100 * val:5.1f}  best val {100 * best_val:5.1f} "
                  f"(epoch {best_epoch}) -> test {100 * test_at_best:5.1f}  wall {time.perf_counter() - t_start:7.0f} s "
                  f"cpu {time.process_time():7.0f} s", flush=True)
    if trace is not None:
        trace.close()
    return dict(val=best_val, test=test_at_best, test_at_loss=test_at_loss, epoch_s=t_train / a.epochs, rows=rows / a.epochs,
                edges=edges / a.epochs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=list(PRESETS), default="gcn")
    p.add_argument("--methods", nargs="+", default=["full", "hist"], choices=["full", "hist"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--aux", type=int, default=16, help="IBMB auxiliary nodes per output node")
    p.add_argument("--per-batch", type=int, default=32, help="IBMB output nodes per batch")
    p.add_argument("--refresh-every", type=int, default=1, help="epochs between evaluations (= history refreshes)")
    p.add_argument("--infer-batch", type=int, default=1024, help="exact nodes per layer-wise inference batch")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--log-every", type=int, default=0,
                   help="print the best validation so far (and its test) every N epochs (0: only the summary)")
    p.add_argument("--trace", default=None, help="append every evaluation to this file as JSON lines")
    p.add_argument("--root", default="/tmp/ibmb-bench-planetoid")
    p.add_argument("--raw-features", action="store_true",
                   help="keep Cora's 0/1 features (default: rows normalized to sum 1, as GAS's and Kipf's setup)")
    a = p.parse_args()
    for k, v in PRESETS[a.model].items():
        if getattr(a, k, None) is None:
            setattr(a, k, v)
    torch.set_num_threads(a.threads)
    data = load_cora(Path(a.root))
    if not a.raw_features:
        from torch_geometric.transforms import NormalizeFeatures

        data = NormalizeFeatures()(data)
    print(f"# Cora public split, model={a.model} layers={a.layers} hidden={a.hidden} epochs={a.epochs} "
          f"aux={a.aux} per_batch={a.per_batch} refresh_every={a.refresh_every} seeds={a.seeds} "
          f"features={'raw' if a.raw_features else 'row-normalized'} "
          f"load={os.getloadavg()[0]:.1f} torch_threads={a.threads}")
    print(f"# graph: {data.num_nodes} nodes, {data.num_edges} edges; histories "
          f"{(a.layers - 1) * data.num_nodes * a.hidden * 4 / 2**20:.2f} MiB float32")
    for method in a.methods:
        res = [run(method, a.model, data, a, s) for s in a.seeds]
        test = np.array([r["test"] for r in res]) * 100
        val = np.array([r["val"] for r in res]) * 100
        by_loss = np.array([r["test_at_loss"] for r in res]) * 100
        print(f"{method:5s} test {test.mean():6.2f} ± {test.std():4.2f}  (seeds: "
              f"{' '.join(f'{t:.1f}' for t in test)})  val {val.mean():6.2f}  [test at lowest val loss "
              f"{by_loss.mean():6.2f} ({' '.join(f'{t:.1f}' for t in by_loss)})]  train epoch "
              f"{np.mean([r['epoch_s'] for r in res]) * 1e3:7.1f} ms  rows/epoch {res[0]['rows']:8.0f}  "
              f"edges/epoch {res[0]['edges']:8.0f}", flush=True)


if __name__ == "__main__":
    main()
