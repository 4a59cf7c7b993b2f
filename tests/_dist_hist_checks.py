"""Rank-side halves of tests/test_dist_history.py (shared histories over
ranks): module-level functions ibmb.distributed.spawn runs in fresh
processes; each returns plain data the test compares with single-process
references."""
from __future__ import annotations

import os
import time
from types import SimpleNamespace
from typing import Any


def plain(obj: Any) -> Any:
    """``obj`` with every tensor replaced by a numpy copy: results go back to
    the parent by value (a tensor would be passed as a shared-memory handle,
    gone once the rank exits)."""
    if hasattr(obj, "detach") and hasattr(obj, "numpy"):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
    return obj


def pushes_round(ctx: Any, num_nodes: int, dims: list, rounds: int) -> dict:
    """``rounds`` rounds of random pushes (rows overlap within and between
    ranks; row 0 of layer 0 is pushed by every rank in every round, with the
    value ``rank + 1``); after each round's exchange, the whole history
    pulled in one exchange. Returns the pushes made and the pulls."""
    import torch

    from ibmb.distributed.history import ShardedHistory

    h = ShardedHistory(ctx, num_nodes, dims)
    g = torch.Generator().manual_seed(7 + ctx.rank)
    out: dict = {"pushes": [], "pulls": [], "pull_local": []}
    for _ in range(rounds):
        mine = []
        for _call in range(3):  # three pushes per layer and round: rows repeat within the rank too
            for layer, d in enumerate(dims):
                ids = torch.randperm(num_nodes, generator=g)[:int(0.4 * num_nodes)]
                x = torch.randn(len(ids), d, generator=g)
                h.push(layer, x, ids)
                mine.append((layer, ids, x))
        conflict = torch.full((1, dims[0]), float(ctx.rank + 1))
        h.push(0, conflict, torch.tensor([0]))
        mine.append((0, torch.tensor([0]), conflict))
        h.exchange(torch.empty(0, dtype=torch.int64))  # the round: pushes applied at their owners
        everything = h.exchange(torch.arange(num_nodes))[0]  # then every row of every layer
        out["pushes"].append(mine)
        out["pulls"].append(everything)
        out["pull_local"].append([h.pull(lay, torch.arange(num_nodes)) for lay in range(len(dims))])
    return plain(out)


def macro_pulls(ctx: Any, num_nodes: int, dims: list, x: Any) -> dict:
    """A filled history, then per-rank halo batches (different counts on the
    ranks) pulled with k = 1, 3, 16, with sharded features in the same
    exchanges: the rows each batch got, and the traffic per k."""
    import torch

    from ibmb.distributed import shard
    from ibmb.distributed.features import ShardedFeatures
    from ibmb.distributed.history import ShardedHistory, macrobatched_history

    h = ShardedHistory(ctx, num_nodes, dims)
    lo, hi = h.lo, h.hi
    for layer, d in enumerate(dims):  # every rank fills its rows: row v, layer l = v * 10 + l + column / 100
        ids = torch.arange(lo, hi)
        h.push(layer, (ids[:, None] * 10.0 + layer + torch.arange(d)[None] / 100.0).float(), ids)
    feats = ShardedFeatures.from_full(ctx, x)
    g = torch.Generator().manual_seed(50 + ctx.rank)
    batches = []
    for _ in range(9 + 4 * ctx.rank):
        n = int(torch.randint(1, 40, (1,), generator=g))
        ids = torch.randperm(num_nodes, generator=g)[:n]
        batches.append(SimpleNamespace(n_id=ids, num_exact=int(torch.randint(0, n + 1, (1,), generator=g))))
    steps = shard.agree_max(ctx, len(batches))
    out: dict = {"rows": {}, "x_ok": {}, "traffic": {}}
    h.exchange(torch.empty(0, dtype=torch.int64))  # apply the fill
    for k in (1, 3, 16):
        before = h.traffic.copy()
        got = list(macrobatched_history(shard.padded(iter(batches), steps), h, k, steps, feats))
        out["rows"][k] = [[r.clone() for r in b.halo_rows] for b in got]
        out["x_ok"][k] = all(torch.equal(b.x, x[b.n_id]) for b in got)
        t = h.traffic.minus(before)
        out["traffic"][k] = (t.sent, t.received, t.hist_sent, t.hist_received, t.exchanges)
    out["halos"] = [b.n_id[b.num_exact:] for b in shard.padded(iter(batches), steps)]
    return plain(out)


def exchange_checks(ctx: Any, pushes: tuple, macro: tuple) -> dict:
    """:func:`pushes_round` and :func:`macro_pulls` in one job (starting ranks is slow)."""
    return {"pushes": pushes_round(ctx, *pushes), "macro": macro_pulls(ctx, *macro)}


def train_hist(ctx: Any, cases: list) -> dict:
    """Per case ``(tag, data, cfg, method)``: a 2-rank training run's test
    accuracy and, for cases tagged ``*-exact``, rank 0's final weights and
    every rank's pull of the whole (shared) history after inference."""
    import torch

    from ibmb.distributed.hist_method import DistributedHistMethod
    from ibmb.train.loop import train_eval

    out: dict = {"rank": ctx.rank}
    for tag, data, cfg, name in cases:
        m = DistributedHistMethod(name, data, cfg, ctx, macrobatch=cfg.macrobatch)
        t = time.perf_counter()
        r = train_eval(m, data, cfg)
        rec = {"acc": r.test_acc, "note": r.note + m.traffic_note(), "epochs": (r.best_epoch, r.epochs),
               "s": time.perf_counter() - t}
        if tag.endswith("-exact"):
            model = r.extra["model"]
            m.inference(model)
            n = data.num_nodes
            rec["state"] = {k: v.clone() for k, v in model.module.state_dict().items()}
            rec["hist"] = m.hist.exchange(torch.arange(n))[0]
        out[tag] = rec
    return plain(out)


def spin(ctx: Any, pid_dir: str) -> None:
    """Announce this rank's pid in ``pid_dir``, then run collectives for
    ever (a rank is often blocked inside one, where Python's SIGINT handler
    cannot run); ignores SIGINT like a rank started from ``cmd &``."""
    import signal

    import torch
    import torch.distributed as dist

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(os.path.join(pid_dir, f"rank{ctx.rank}.pid"), "w") as fh:
        fh.write(str(os.getpid()))
    t = torch.ones(1)
    while True:
        dist.all_reduce(t, group=ctx.group)
        if ctx.rank == 1:
            time.sleep(0.05)


__all__ = ["pushes_round", "macro_pulls", "exchange_checks", "train_hist", "spin"]
