"""Rank-side halves of tests/test_distributed.py: module-level functions that
ibmb.distributed.spawn runs in fresh processes (importable there because
spawn passes sys.path on). Each returns plain data the test compares with
single-process references."""
from __future__ import annotations

import copy
from typing import Any


def batches_of(loader: Any) -> list:
    """A loader's batches as sorted (outputs, nodes) tuples."""
    b = loader.batches
    return sorted((tuple(o.tolist()), tuple(n.tolist())) for o, n in (b.batch(i) for i in range(b.num_batches)))


def rank_checks(ctx: Any, cases: list, fetch_x: Any) -> dict:
    """Per case ``(tag, data, cfg, method)``: the rank's training batches,
    its steps, and the test accuracy of a 2-rank training run; plus the
    macrobatched-fetch check on ``fetch_x``."""
    import torch

    from ibmb.distributed.features import ShardedFeatures, macrobatched
    from ibmb.distributed.method import DistributedMethod
    from ibmb.train.loop import train_eval

    out: dict = {"rank": ctx.rank}
    for tag, data, cfg, name in cases:
        m = DistributedMethod(name, data, cfg, ctx, macrobatch=cfg.macrobatch)
        r = train_eval(m, data, cfg)
        out[tag] = {"batches": batches_of(m.loader), "steps": m.steps, "local": m.local_batches,
                    "acc": r.test_acc, "note": r.note, "epochs": (r.best_epoch, r.epochs)}
    # Macrobatched fetch == per-batch fetch == x[n_id], for k = 1, 3, 16 over this rank's own id lists (ranks hold
    # different numbers of lists, so the exchange counts are agreed between the ranks).
    store = ShardedFeatures.from_full(ctx, fetch_x)
    g = torch.Generator().manual_seed(100 + ctx.rank)
    lists = [torch.randint(0, fetch_x.shape[0], (int(torch.randint(1, 60, (1,), generator=g)),), generator=g)
             for _ in range(7 + 3 * ctx.rank)]
    lists.append(torch.empty(0, dtype=torch.int64))
    same, traffic = True, {}
    for k in (1, 3, 16):
        before = store.traffic.copy()
        items = [_Item(i) for i in lists]
        got = [it.x for it in macrobatched(items, store, k)]
        same &= len(got) == len(lists) and all(torch.equal(a, fetch_x[i]) for a, i in zip(got, lists))
        traffic[k] = store.traffic.minus(before)
    out["fetch_same"] = bool(same)
    out["traffic"] = {k: (t.sent, t.received, t.exchanges) for k, t in traffic.items()}
    return out


class _Item:
    """A batch stand-in: ``n_id`` in, ``x`` set by macrobatched."""

    def __init__(self, n_id: Any) -> None:
        self.n_id, self.x = n_id, None


def failing(ctx: Any, bad_rank: int) -> str:
    """Rank ``bad_rank`` raises after one collective; the others wait in the
    next one, which must fail (peer gone or timeout), not hang."""
    import torch
    import torch.distributed as dist

    t = torch.ones(1)
    dist.all_reduce(t, group=ctx.group)
    if ctx.rank == bad_rank:
        raise ValueError(f"rank {ctx.rank} fails on purpose")
    dist.all_reduce(t, group=ctx.group)
    return "not reached"


def with_cfg(cfg: Any, **kw: Any) -> Any:
    c = copy.copy(cfg)
    for k, v in kw.items():
        setattr(c, k, v)
    return c


__all__ = ["rank_checks", "failing", "batches_of", "with_cfg"]
