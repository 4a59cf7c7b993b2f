"""Data-parallel IBMB training on 1 and several ranks (gloo on localhost),
and the feature traffic of macrobatched fetching.

For each rank count W (``--world``, default 1 and 2), one spawned job:

1. replicated features (every rank holds ``x``): preprocessing time (this
   rank's share of the batches) and training epoch time (DDP steps);
2. for W > 1, features sharded by node range and fetched ``k`` batches per
   exchange, ``k`` in ``--ks`` (default 1, 4, 16), over the same batches:
   epoch time, bytes sent and received per epoch, exchanges, seconds in
   exchanges. k = 1 (per-batch fetching) is the baseline of the others,
   measured in the same run;
3. for W > 1, ``--hist-method`` (default ibmb-node-hist) with one history
   shared by the ranks: the history's bytes per epoch (halo pulls and
   pushes to the owners) for the same ``k`` values, rows pulled from and
   pushed to other ranks, and the history rows each rank stores.

Run: ``PYTHONPATH=python python benchmarks/bench_distributed.py --nodes 1000000``
(1 thread per rank by default: ``--threads``). Figures in
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any


def _epochs(m: Any, model: Any, opt: Any, epochs: int) -> list:
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        model.train()
        for b in m.train_batches():
            m.train_step(model, b, opt)
        times.append(time.perf_counter() - t)
    return times


def rank_job(ctx: Any, a: argparse.Namespace) -> dict:
    import torch

    import ibmb.data as D
    from ibmb.distributed.method import DistributedMethod
    from ibmb.train import Config

    t = time.perf_counter()
    data = D.load("default", num_nodes=a.nodes, num_features=a.features, split_seed=0)
    load_s = time.perf_counter() - t
    cfg = Config(hidden=64, epochs=a.epochs, num_nodes_per_batch=a.outputs_per_batch, progress=False,
                 num_auxiliary_nodes=a.aux)
    nc = int(data.y.max()) + 1
    out: dict = {"rank": ctx.rank, "load_s": load_s, "runs": []}
    for k in [0] + ([1] if ctx.world_size > 1 else []):
        m = DistributedMethod(a.method, data, cfg, ctx, macrobatch=k)
        t = time.perf_counter()
        m.prepare()
        prep = time.perf_counter() - t
        model = m.build_model(data.x.shape[1], nc)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        for kk in ([0] if k == 0 else a.ks):
            m.k = kk
            m.epoch_traffic.clear()
            times = _epochs(m, model, opt, a.epochs)
            tr = m.epoch_traffic
            med = (lambda f: statistics.median(getattr(x, f) for x in tr) if tr else 0)
            out["runs"].append({"k": kk, "prep_s": prep, "epoch_s": statistics.median(times), "steps": m.steps,
                                "local_batches": m.local_batches, "sent": med("sent"), "received": med("received"),
                                "exchanges": med("exchanges"), "xchg_s": med("seconds"),
                                "remote_rows": med("remote_rows"), "local_rows": med("local_rows"),
                                "x_bytes_here": 0 if m.store is None else m.store.nbytes})
    if ctx.world_size > 1 and a.hist_method != "none":
        out["hist"] = _hist_runs(ctx, a, data, cfg, nc)
    return out


def _hist_runs(ctx: Any, a: argparse.Namespace, data: Any, cfg: Any, nc: int) -> list:
    """The history method with one shared history (features replicated): per
    k, the history's share of the exchanges per epoch (pushes and pulls)."""
    import torch

    from ibmb.distributed.hist_method import DistributedHistMethod

    m = DistributedHistMethod(a.hist_method, data, cfg, ctx, macrobatch=0)
    t = time.perf_counter()
    m.prepare()
    prep = time.perf_counter() - t
    model = m.build_model(data.x.shape[1], nc)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    runs = []
    for k in a.ks:
        m.k = k
        m.epoch_traffic.clear()
        times = _epochs(m, model, opt, a.epochs)
        tr = m.epoch_traffic
        med = (lambda f: statistics.median(getattr(x, f) for x in tr))
        runs.append({"k": k, "prep_s": prep, "epoch_s": statistics.median(times), "steps": m.steps,
                     "sent": med("sent"), "received": med("received"), "hist_sent": med("hist_sent"),
                     "hist_received": med("hist_received"), "exchanges": med("exchanges"), "xchg_s": med("seconds"),
                     "pulled_remote": med("pulled_remote"), "pushed_remote": med("pushed_remote"),
                     "hist_bytes_here": m.hist.nbytes})
    return runs


def _print_hist(w: int, ranks: list, a: argparse.Namespace) -> None:
    print(f"\n{a.hist_method}, {w} ranks, one shared history (features replicated; history bytes per epoch, mean "
          "per rank):")
    print(f"{'k':>3} {'prep s':>8} {'epoch s':>8} {'steps':>5} {'xchg':>5} {'MiB sent':>9} {'MiB recv':>9} "
          f"{'xchg s':>7} {'rows pulled':>11} {'rows pushed':>11} {'hist MiB/rank':>13}")
    for i, r0 in enumerate(ranks[0]["hist"]):
        rs = [r["hist"][i] for r in ranks]
        mean = (lambda f: sum(r[f] for r in rs) / len(rs))
        print(f"{r0['k']:>3} {max(r['prep_s'] for r in rs):>8.2f} {max(r['epoch_s'] for r in rs):>8.3f} "
              f"{r0['steps']:>5} {mean('exchanges'):>5.0f} {mean('hist_sent') / 2**20:>9.2f} "
              f"{mean('hist_received') / 2**20:>9.2f} {mean('xchg_s'):>7.3f} {mean('pulled_remote'):>11,.0f} "
              f"{mean('pushed_remote'):>11,.0f} {mean('hist_bytes_here') / 2**20:>13.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=64)
    p.add_argument("--method", default="ibmb-node", choices=("ibmb-node", "ibmb-batch"))
    p.add_argument("--outputs-per-batch", type=int, default=1024)
    p.add_argument("--aux", type=int, default=16)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--world", default="1,2")
    p.add_argument("--ks", default="1,4,16")
    p.add_argument("--hist-method", default="ibmb-node-hist", choices=("ibmb-node-hist", "ibmb-batch-hist", "gas",
                                                                       "none"),
                   help="history method measured with a shared history on W > 1 ranks (none: skip)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--timeout", type=float, default=1800)
    a = p.parse_args()
    a.ks = [int(k) for k in a.ks.split(",")]
    from ibmb.distributed.launch import spawn

    print(f"machine: {platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start; "
          f"{a.method}, {a.nodes:,} nodes, {a.features} features, {a.outputs_per_batch} outputs/batch, "
          f"{a.threads} thread(s) per rank, {a.epochs} epochs (median)")
    print(f"{'ranks':>5} {'features':>10} {'k':>3} {'prep s':>8} {'epoch s':>8} {'steps':>5} {'xchg':>5} "
          f"{'MiB sent':>9} {'MiB recv':>9} {'xchg s':>7} {'remote rows':>11} {'local rows':>10} {'x MiB/rank':>10}")
    for w in (int(x) for x in a.world.split(",")):
        t = time.perf_counter()
        ranks = spawn(rank_job, w, (a,), timeout_s=a.timeout, threads=a.threads)
        wall = time.perf_counter() - t
        for i, r0 in enumerate(ranks[0]["runs"]):
            rs = [r["runs"][i] for r in ranks]
            mx = (lambda f: max(r[f] for r in rs))
            mean = (lambda f: sum(r[f] for r in rs) / len(rs))
            feats = "replicated" if r0["k"] == 0 else "sharded"
            x_mib = mean("x_bytes_here") / 2**20 if r0["k"] else a.nodes * a.features * 4 / 2**20
            print(f"{w:>5} {feats:>10} {r0['k'] or '-':>3} {mx('prep_s'):>8.2f} {mx('epoch_s'):>8.3f} "
                  f"{r0['steps']:>5} {mean('exchanges'):>5.0f} {mean('sent') / 2**20:>9.2f} "
                  f"{mean('received') / 2**20:>9.2f} {mean('xchg_s'):>7.3f} {mean('remote_rows'):>11,.0f} "
                  f"{mean('local_rows'):>10,.0f} {x_mib:>10.0f}")
        print(f"      ({w} rank(s): job wall {wall:.0f} s incl. start, data load {ranks[0]['load_s']:.1f} s per rank; "
              "prep/epoch: slowest rank; bytes/rows: mean per rank per epoch)")
        if "hist" in ranks[0]:
            _print_hist(w, ranks, a)
    print(f"load {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
