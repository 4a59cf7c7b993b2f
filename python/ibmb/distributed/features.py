"""Sharded node features and macrobatched fetching.

Each rank stores only the feature rows of the nodes it owns (its range
``[lo, hi)`` of :func:`ibmb.distributed.shard.node_bounds`). IBMB batches are
known before an epoch starts, so a rank asks for the rows of its next ``k``
batches at once: the union of their ``n_id`` is deduplicated, split by
owner, and fetched in one exchange of three ``all_to_all_single`` calls
(request counts, requested ids, answered rows). A row that several of the
``k`` batches need crosses the network once (BatchGNN's macrobatching);
``k = 1`` is per-batch fetching. Rows the rank owns are copied locally and
never sent.

Every rank must call :meth:`ShardedFeatures.fetch` the same number of times
(each call is a collective); :func:`macrobatched` arranges that for
iterators of different lengths.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any, Iterable, Iterator, Optional, Sequence

import numpy as np

from ibmb.distributed.shard import agree_max, node_bounds

__all__ = ["ShardedFeatures", "Traffic", "macrobatched"]


class Counters:
    """Arithmetic of a dataclass of counters: :meth:`minus` (field by
    field) and :meth:`copy`, for the traffic records of exchanges."""

    def minus(self, other: "Counters") -> "Counters":
        return type(self)(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    def copy(self) -> "Counters":
        return type(self)(*(getattr(self, f.name) for f in fields(self)))


@dataclass
class Traffic(Counters):
    """Bytes this rank sent and received in feature exchanges (ids and rows;
    the 8-byte request counts included), the exchanges, the rows fetched
    from other ranks and the seconds spent exchanging."""

    sent: int = 0
    received: int = 0
    exchanges: int = 0
    remote_rows: int = 0
    local_rows: int = 0
    seconds: float = 0.0


class ShardedFeatures:
    """The feature rows ``x[lo:hi]`` one rank owns, and the exchange that
    gets any other rows from their owners.

    Args:
        ctx: the rank's :class:`~ibmb.distributed.launch.Context` (its gloo
            ``group`` carries the exchange).
        local: ``[hi - lo, F]`` rows this rank owns (a CPU tensor; any
            dtype).
        num_nodes: ``N`` of the whole graph (the ranges are
            ``node_bounds(N, world_size)``).
    """

    def __init__(self, ctx: Any, local: Any, num_nodes: int) -> None:
        import torch

        self.ctx, self.num_nodes = ctx, int(num_nodes)
        self.bounds = node_bounds(num_nodes, ctx.world_size)
        self.lo, self.hi = int(self.bounds[ctx.rank]), int(self.bounds[ctx.rank + 1])
        if local.shape[0] != self.hi - self.lo:
            raise ValueError(f"rank {ctx.rank} owns nodes [{self.lo}, {self.hi}) but got {local.shape[0]} rows")
        self.local = local.contiguous()
        self.row_shape = tuple(local.shape[1:])
        self._bounds_t = torch.from_numpy(self.bounds[1:].copy())
        self.traffic = Traffic()

    @classmethod
    def from_full(cls, ctx: Any, x: Any) -> "ShardedFeatures":
        """Keep this rank's rows of a full ``[N, F]`` ``x`` (copied, so ``x``
        may be dropped afterwards)."""
        b = node_bounds(x.shape[0], ctx.world_size)
        return cls(ctx, x[int(b[ctx.rank]):int(b[ctx.rank + 1])].clone(), x.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the rows this rank stores."""
        return self.local.numel() * self.local.element_size()

    def fetch(self, id_lists: Sequence[Any]) -> list:
        """The rows ``x[ids]`` for each ``[n_i]`` int64 id tensor of
        ``id_lists`` (``[n_i, F]`` each), all fetched in one exchange of
        their deduplicated union. A collective: every rank calls it, with
        its own (possibly empty) list."""
        import torch

        if id_lists:
            ids = torch.cat([torch.as_tensor(i, dtype=torch.int64).view(-1) for i in id_lists])
        else:
            ids = torch.empty(0, dtype=torch.int64)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_nodes):
            raise IndexError(f"node id out of range for {self.num_nodes} nodes")
        uniq, inverse = torch.unique(ids, sorted=True, return_inverse=True)
        rows = self.rows(uniq)
        out, at = [], 0
        for i in id_lists:
            n = int(torch.as_tensor(i).numel())
            out.append(rows[inverse[at:at + n]])
            at += n
        return out

    def rows(self, uniq: Any) -> Any:
        """``x[uniq]`` for sorted distinct ``uniq`` ``[u]`` int64: the local
        rows copied, the others in one exchange (a collective)."""
        import torch
        import torch.distributed as dist

        t0 = time.perf_counter()
        w, me, g = self.ctx.world_size, self.ctx.rank, self.ctx.group
        owner = torch.searchsorted(self._bounds_t, uniq, right=True)
        mine = owner == me
        remote = uniq[~mine]
        send_counts = torch.bincount(owner[~mine], minlength=w).to(torch.int64)
        recv_counts = torch.empty(w, dtype=torch.int64)
        dist.all_to_all_single(recv_counts, send_counts, group=g)
        sc, rc = send_counts.tolist(), recv_counts.tolist()
        asked = torch.empty(sum(rc), dtype=torch.int64)
        dist.all_to_all_single(asked, remote, rc, sc, group=g)
        answer = self.local.index_select(0, asked - self.lo) if asked.numel() else \
            self.local.new_empty((0, *self.row_shape))
        got = self.local.new_empty((remote.numel(), *self.row_shape))
        dist.all_to_all_single(got, answer, sc, rc, group=g)
        out = self.local.new_empty((uniq.numel(), *self.row_shape))
        out[mine] = self.local.index_select(0, uniq[mine] - self.lo)
        out[~mine] = got
        row = self.local.element_size() * int(np.prod(self.row_shape, dtype=np.int64))
        t = self.traffic
        t.sent += 8 * (w - 1) + 8 * remote.numel() + row * asked.numel()
        t.received += 8 * (w - 1) + 8 * asked.numel() + row * remote.numel()
        t.exchanges += 1
        t.remote_rows += int(remote.numel())
        t.local_rows += int(mine.sum())
        t.seconds += time.perf_counter() - t0
        return out


def macrobatched(batches: Iterable[Any], store: ShardedFeatures, k: int, count: Optional[int] = None,
                 attr: str = "x") -> Iterator[Any]:
    """Yield the PyG ``Data`` batches of ``batches`` with ``batch.x`` (or
    ``attr``) set to the rows of ``batch.n_id``, fetched ``k`` batches per
    exchange.

    ``count``: the number of batches ``batches`` yields when every rank
    knows it is the same on all ranks (training: equal steps); None makes
    the ranks agree on the number of exchanges first (an all-reduce), and a
    rank that runs out joins the remaining exchanges with empty requests.
    """
    if k < 1:
        raise ValueError(f"k (batches per exchange) must be >= 1, got {k}")
    if count is None:
        items = list(batches)
        exchanges = agree_max(store.ctx, -(-len(items) // k))
        it: Iterator[Any] = iter(items)
    else:
        exchanges = -(-int(count) // k)
        it = iter(batches)
    for _ in range(exchanges):
        group = []
        for b in it:
            group.append(b)
            if len(group) == k:
                break
        rows = store.fetch([b.n_id for b in group])
        for b, r in zip(group, rows):
            setattr(b, attr, r)
            yield b
