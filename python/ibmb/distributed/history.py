"""One history shared by all ranks: historical embeddings sharded by node
range, pulled and pushed in the macrobatched exchanges (issue 15 item 4).

Ownership: rank ``r`` stores the history rows of the nodes it owns, the
same range ``[lo, hi)`` as its feature rows
(:func:`ibmb.distributed.shard.node_bounds`), in an
:class:`ibmb.HistoryStore` of ``hi - lo`` rows per layer. No rank holds
another's rows except those it pulled for its next batches.

One exchange (:meth:`ShardedHistory.exchange`, a collective: every rank
calls it the same number of times) is three ``all_to_all_single`` calls:
counts, then the requests (feature ids, history ids, and the pushed ids
and rows of every layer, sent to their owners), then the answers (feature
rows, history rows of every layer). The owner *applies the pushes before
it answers*. Training calls it once per ``k`` batches
(:func:`macrobatched_history`) with the deduplicated union of the ``k``
batches' halo ids (and, with sharded features, their feature ids).

Visibility (the consistency rule):

- :meth:`ShardedHistory.push` only buffers (also rows the rank owns). The
  pushes a rank buffers between two exchanges are sent at the next
  exchange; every owner applies them there, before answering any pull.
- A push made before exchange ``j`` is therefore visible to every pull of
  exchange ``j`` on every rank, and to none before; between exchanges the
  history does not change, so every rank that pulls a row at exchange
  ``j`` gets the same bytes, equal to what one :class:`ibmb.HistoryStore`
  holds after receiving all pushes of the rounds up to ``j`` in order.
- Several pushes of one row in one round: within a rank the latest push
  wins; between ranks the highest rank wins (the owner applies the rounds'
  pushes in rank order: rank 0's, then rank 1's, ...). So a round equals
  a single store receiving rank 0's pushes in push order, then rank 1's, ...
- Staleness: with ``k`` batches per exchange, the halo rows a rank uses at
  global step ``s`` (every rank steps once per global step, on its own
  batch) hold every push of the steps before ``k * floor(s / k)``, by every
  rank, and none after: up to ``k - 1`` steps fewer than pulling at the
  start of step ``s`` would see. Against one process, which steps on one
  batch at a time and sees every earlier batch's pushes, the ``W - 1``
  batches the other ranks train in the same step are missing too; so
  ``k = 1`` misses only those, and any ``k`` at most ``k`` steps' pushes.

:meth:`ShardedHistory.pull` reads the snapshot of the last exchange (owned
rows from the local store, others from the rows that exchange pulled).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence

import numpy as np

from ibmb.distributed.features import Counters
from ibmb.distributed.shard import node_bounds

__all__ = ["ShardedHistory", "HistTraffic", "macrobatched_history", "last_per_id"]


@dataclass
class HistTraffic(Counters):
    """Per rank: bytes sent and received in exchanges (counts, ids, rows; ``hist_*``: the history's share: its
    ids, pulled rows and pushed rows; traffic to itself not counted), exchanges, rows pulled from other ranks and
    rows pushed to other ranks (after deduplication), seconds in exchanges."""

    sent: int = 0
    received: int = 0
    hist_sent: int = 0
    hist_received: int = 0
    exchanges: int = 0
    pulled_remote: int = 0
    pushed_remote: int = 0
    seconds: float = 0.0


def last_per_id(ids: Any, rows: Any) -> tuple[Any, Any]:
    """Distinct ``ids`` (ascending) and, for each, the row of its *last*
    occurrence (``ids [M]`` int64, ``rows [M, d]``)."""
    import torch

    uniq, inv = torch.unique(ids, sorted=True, return_inverse=True)
    last = torch.full((uniq.numel(),), -1, dtype=torch.int64)
    last.scatter_reduce_(0, inv, torch.arange(ids.numel(), dtype=torch.int64), reduce="amax")
    return uniq, rows.index_select(0, last)


def _bytes(t: Any) -> Any:
    """The bytes of tensor ``t`` as a 1-D uint8 tensor (a view when contiguous)."""
    import torch

    return t.contiguous().reshape(-1).view(torch.uint8)


def _take(buf: Any, at: int, n: int, dtype: Any, width: int) -> tuple[Any, int]:
    """``n`` rows of ``width`` elements of ``dtype`` from ``buf`` at byte
    ``at`` (width 0: ``n`` elements, 1-D), copied (aligned), and the next offset."""
    import torch

    size = n * max(width, 1) * torch.empty(0, dtype=dtype).element_size()
    t = buf[at:at + size].clone().view(dtype)
    return (t.view(n, width) if width else t.view(n)), at + size


class ShardedHistory:
    """Per-layer ``[N, dims[l]]`` histories, sharded by node range over the
    ranks of ``ctx`` (see the module docstring for when pushes become
    visible). Has :class:`ibmb.HistoryStore`'s ``num_nodes``, ``dims``,
    ``dtype``, ``num_layers``, :meth:`pull` and :meth:`push`, so an
    :class:`ibmb.nn.HistoryGNN` takes it as ``histories=``.

    Args:
        ctx: the rank's :class:`~ibmb.distributed.launch.Context`.
        num_nodes: ``N``.
        dims: width of each hidden layer's history.
        dtype: storage dtype (float32 default; float16/bfloat16/float64).
    """

    history_store = True  # accepted by ibmb.nn.HistoryGNN(histories=...)

    def __init__(self, ctx: Any, num_nodes: int, dims: Sequence[int], dtype: Any = None) -> None:
        import torch

        from ibmb.history import HistoryStore

        self.ctx, self.num_nodes = ctx, int(num_nodes)
        self.bounds = node_bounds(self.num_nodes, ctx.world_size)
        self.lo, self.hi = int(self.bounds[ctx.rank]), int(self.bounds[ctx.rank + 1])
        self.local = HistoryStore(max(1, self.hi - self.lo), dims, dtype)  # a store has >= 1 row
        self.dims, self.dtype = self.local.dims, self.local.dtype
        self._bounds_t = torch.from_numpy(self.bounds[1:].copy())
        self._pending: list[list] = [[] for _ in self.dims]
        self._ids = torch.empty(0, dtype=torch.int64)  # remote rows of the last exchange: ids, rows per layer
        self._rows: list = [None] * len(self.dims)
        self.traffic = HistTraffic()

    @property
    def num_layers(self) -> int:
        return len(self.dims)

    @property
    def nbytes(self) -> int:
        """Bytes of the rows this rank stores."""
        return (self.hi - self.lo) * sum(self.dims) * self.dtype.itemsize

    def owner(self, ids: Any) -> Any:
        import torch

        return torch.searchsorted(self._bounds_t, ids, right=True)

    def _check_ids(self, n_id: Any, sorted_name: str = "") -> Any:
        """``n_id`` as an in-range 1-D int64 CPU tensor; ascending too with ``sorted_name`` (exchange's split)."""
        import torch

        idx = torch.as_tensor(n_id, dtype=torch.int64).view(-1).cpu()
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.num_nodes):
            raise IndexError(f"n_id holds ids outside [0, {self.num_nodes})")
        if sorted_name and idx.numel() > 1 and not bool((idx[1:] >= idx[:-1]).all()):
            raise ValueError(f"{sorted_name} must be sorted ascending (e.g. torch.unique(...))")
        return idx

    def _check_layer(self, layer: Any) -> int:  # a negative layer once read another layer's pulled rows
        if not 0 <= int(layer) < self.num_layers:
            raise ValueError(f"layer must be in [0, {self.num_layers}), got {layer}")
        return int(layer)

    def push(self, layer: int, x: Any, n_id: Any) -> None:
        """Buffer ``H[layer][n_id] = x`` (``x [M, d]`` of the store's dtype,
        CPU, contiguous; ``n_id [M]`` distinct) until the next exchange."""
        import torch

        layer = self._check_layer(layer)
        idx = self._check_ids(n_id)
        d = self.dims[layer]
        if not isinstance(x, torch.Tensor) or x.dtype != self.dtype:
            raise TypeError(f"x must be a tensor of dtype {self.dtype} (the store's)")
        if x.device.type != "cpu" or tuple(x.shape) != (idx.numel(), d):
            raise ValueError(f"x must be a [{idx.numel()}, {d}] CPU tensor, got {tuple(x.shape)} on {x.device}")
        if torch.unique(idx).numel() != idx.numel():
            raise ValueError("n_id holds a repeated id; ids pushed at once must be distinct")
        self._pending[layer].append((idx.clone(), x.detach().clone()))

    def pull(self, layer: int, n_id: Any) -> Any:
        """``[M, d]`` rows of the last exchange's snapshot: owned rows from
        this rank's store, others from the rows the last exchange pulled
        (KeyError for a remote row it did not pull: use :meth:`exchange`)."""
        import torch

        layer = self._check_layer(layer)
        idx = self._check_ids(n_id)
        out = torch.empty((idx.numel(), self.dims[layer]), dtype=self.dtype)
        mine = (idx >= self.lo) & (idx < self.hi)
        if bool(mine.any()):
            out[mine] = self.local.pull(layer, idx[mine] - self.lo)
        if not bool(mine.all()):
            rem = idx[~mine]
            at = torch.searchsorted(self._ids, rem).clamp(max=max(0, self._ids.numel() - 1))
            if self._rows[layer] is None or not bool((self._ids.numel() > 0) and (self._ids[at] == rem).all()):
                raise KeyError(f"rank {self.ctx.rank}: remote history rows not pulled by the last exchange")
            out[~mine] = self._rows[layer][at]
        return out

    def exchange(self, ids: Any, layers: Optional[Sequence[int]] = None, features: Any = None,
                 feature_ids: Any = None) -> tuple[list, Any]:
        """One round (a collective): send the buffered pushes to their owners
        (applied there first), then pull the rows ``ids`` (``[u]`` sorted
        distinct) of ``layers`` (default all) and, with ``features`` (a
        :class:`~ibmb.distributed.features.ShardedFeatures`), the feature
        rows ``feature_ids`` (sorted distinct). Returns ``([u, d_l] per
        layer of layers, [v, F] feature rows or None)``."""
        import torch
        import torch.distributed as dist

        t0 = time.perf_counter()
        w, me, g = self.ctx.world_size, self.ctx.rank, self.ctx.group
        layers = list(range(self.num_layers)) if layers is None else [self._check_layer(x) for x in layers]
        L = self.num_layers
        ids = self._check_ids(ids, "ids")
        fids = self._check_ids(feature_ids if feature_ids is not None else [], "feature_ids")
        if features is None and fids.numel():
            raise ValueError("feature_ids without features")
        # Pushes: deduplicated (latest wins), split by owner.
        push = []
        for lay in range(L):
            if self._pending[lay]:
                pid, prow = last_per_id(torch.cat([p[0] for p in self._pending[lay]]),
                                        torch.cat([p[1] for p in self._pending[lay]]))
            else:
                pid, prow = torch.empty(0, dtype=torch.int64), torch.empty((0, self.dims[lay]), dtype=self.dtype)
            push.append((pid, prow, torch.bincount(self.owner(pid), minlength=w)))
            self._pending[lay] = []
        fcount = torch.bincount(self.owner(fids), minlength=w)
        hcount = torch.bincount(self.owner(ids), minlength=w)
        counts = torch.stack([fcount, hcount] + [p[2] for p in push], dim=1).to(torch.int64)  # [w, 2 + L]
        got = torch.empty_like(counts)
        dist.all_to_all_single(got.view(-1), counts.view(-1), group=g)
        # Requests: per destination, feature ids, history ids, pushed ids of every layer, pushed rows of every layer.
        cum = [torch.cumsum(c, 0) - c for c in (fcount, hcount)] + [torch.cumsum(p[2], 0) - p[2] for p in push]
        parts = []
        for r in range(w):
            blocks = [fids[cum[0][r]:cum[0][r] + fcount[r]], ids[cum[1][r]:cum[1][r] + hcount[r]]]
            blocks += [p[0][cum[2 + i][r]:cum[2 + i][r] + p[2][r]] for i, p in enumerate(push)]
            blocks += [p[1][cum[2 + i][r]:cum[2 + i][r] + p[2][r]] for i, p in enumerate(push)]
            parts.append(torch.cat([_bytes(b) for b in blocks]))
        isz = self.dtype.itemsize
        req_size = lambda c: int(8 * c.sum() + isz * sum(int(c[2 + i]) * d for i, d in enumerate(self.dims)))  # noqa
        recv_sizes = [req_size(got[r]) for r in range(w)]
        send_sizes = [p.numel() for p in parts]
        req = torch.empty(sum(recv_sizes), dtype=torch.uint8)
        dist.all_to_all_single(req, torch.cat(parts), recv_sizes, send_sizes, group=g)
        # Apply every source's pushes in rank order (highest rank wins), then answer.
        asked, at = [], 0
        new: list[list] = [[] for _ in range(L)]
        for r in range(w):
            c = got[r].tolist()
            fr, at = _take(req, at, c[0], torch.int64, 0)
            hr, at = _take(req, at, c[1], torch.int64, 0)
            pids = []
            for i in range(L):
                p, at = _take(req, at, c[2 + i], torch.int64, 0)
                pids.append(p)
            for i in range(L):
                rows, at = _take(req, at, c[2 + i], self.dtype, self.dims[i])
                new[i].append((pids[i], rows))
            asked.append((fr, hr))
        for i in range(L):
            pid = torch.cat([p for p, _ in new[i]])
            if pid.numel():
                if int(pid.min()) < self.lo or int(pid.max()) >= self.hi:
                    raise RuntimeError(f"rank {me} got pushes of rows it does not own")
                uid, rows = last_per_id(pid, torch.cat([r for _, r in new[i]]))
                self.local.push(i, rows.contiguous(), uid - self.lo)
        frow = 0 if features is None else features.local.element_size() * int(np.prod(features.row_shape))
        answers = []
        for fr, hr in asked:
            blocks = [] if features is None else [features.local.index_select(0, fr - self.lo)]
            blocks += [self.local.pull(i, hr - self.lo) for i in layers]
            answers.append(torch.cat([_bytes(b) for b in blocks]) if blocks else torch.empty(0, dtype=torch.uint8))
        hrow = isz * sum(self.dims[i] for i in layers)
        back_sizes = [int(fcount[r]) * frow + int(hcount[r]) * hrow for r in range(w)]
        ans = torch.empty(sum(back_sizes), dtype=torch.uint8)
        dist.all_to_all_single(ans, torch.cat(answers), back_sizes, [a.numel() for a in answers], group=g)
        # Ranks own ascending ranges and ids are sorted: the blocks in rank order are the rows in id order.
        frows, hrows, at = [], [[] for _ in layers], 0
        for r in range(w):
            if features is not None:
                fb, at = _take(ans, at, int(fcount[r]) * int(np.prod(features.row_shape)), features.local.dtype, 0)
                frows.append(fb.view(int(fcount[r]), *features.row_shape))
            for j, i in enumerate(layers):
                hb, at = _take(ans, at, int(hcount[r]), self.dtype, self.dims[i])
                hrows[j].append(hb)
        out = [torch.cat(h) for h in hrows]
        remote = (ids < self.lo) | (ids >= self.hi)
        self._ids = ids[remote]
        self._rows = [None] * L
        for j, i in enumerate(layers):
            self._rows[i] = out[j][remote]
        self._account(counts, got, send_sizes, recv_sizes, back_sizes, answers, frow, me, w)
        self.traffic.seconds += time.perf_counter() - t0
        return out, (torch.cat(frows) if features is not None else None)

    def _account(self, counts: Any, got: Any, send_sizes: list, recv_sizes: list, back_sizes: list,
                 answers: list, frow: int, me: int, w: int) -> None:
        """Bytes to and from other ranks (self excluded; counts: 8 bytes per value)."""
        t = self.traffic
        others = [r for r in range(w) if r != me]
        cbytes = 8 * counts.shape[1] * len(others)
        sent = sum(send_sizes[r] + answers[r].numel() for r in others)
        recv = sum(recv_sizes[r] + back_sizes[r] for r in others)
        fsent = sum(8 * int(counts[r, 0]) + frow * int(got[r, 0]) for r in others)
        frecv = sum(8 * int(got[r, 0]) + frow * int(counts[r, 0]) for r in others)
        t.sent += cbytes + sent
        t.received += cbytes + recv
        t.hist_sent += sent - fsent
        t.hist_received += recv - frecv
        t.exchanges += 1
        t.pulled_remote += sum(int(counts[r, 1]) for r in others)
        t.pushed_remote += sum(int(counts[r, 2:].sum()) for r in others)


def macrobatched_history(batches: Iterable[Any], hist: ShardedHistory, k: int, count: int,
                         features: Any = None) -> Iterator[Any]:
    """Yield halo batches (``n_id``, ``num_exact``) with ``halo_rows`` (one
    ``[H, d_l]`` tensor per layer: rows ``n_id[num_exact:]``) and, with
    ``features``, ``x`` (rows ``n_id``) set from one exchange per ``k``
    batches. ``count``: the batches ``batches`` yields, the same on every
    rank (the exchanges are collectives). The pushes the model makes while
    a group of ``k`` batches trains go in the next group's exchange."""
    import torch

    if k < 1:
        raise ValueError(f"k (batches per exchange) must be >= 1, got {k}")
    it = iter(batches)
    for _ in range(-(-int(count) // k)):
        group = []
        for b in it:
            group.append(b)
            if len(group) == k:
                break
        halos = [b.n_id[int(b.num_exact):].cpu() for b in group]
        ids = torch.unique(torch.cat(halos)) if halos else torch.empty(0, dtype=torch.int64)
        fids = None
        if features is not None:
            fids = torch.unique(torch.cat([b.n_id.cpu() for b in group])) if group else ids[:0]
        rows, feats = hist.exchange(ids, features=features, feature_ids=fids)
        for b, h in zip(group, halos):
            at = torch.searchsorted(ids, h)
            b.halo_rows = [r.index_select(0, at) for r in rows]
            if feats is not None:
                b.x = feats.index_select(0, torch.searchsorted(fids, b.n_id.cpu()))
            yield b
