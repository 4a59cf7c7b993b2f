"""``ibmb-node`` and ``ibmb-batch`` on several ranks: a
:class:`~ibmb.train.methods.Method` that the ordinary training loop
(:func:`ibmb.train.loop.train_eval`) runs unchanged on every rank.

- ``prepare``: this rank's share of the training batches only (see
  :mod:`ibmb.distributed.shard`), then the ranks agree on the steps per
  epoch (the largest batch count; smaller shares repeat their first
  batches).
- ``build_model``: the method's model in ``DistributedDataParallel`` (the
  ranks start from rank 0's weights; gradients are averaged every step).
- ``train_step``: forward and backward on every step, also when a batch has
  no labelled outputs (its loss is then 0), so that DDP's all-reduce never
  misses a rank.
- ``inference_batches`` / ``predict``: each rank infers its shard of the
  nodes (node-wise: whole inference batches, as large as one process's),
  and the ``(ids, predictions)`` of all ranks are gathered on every
  rank, so accuracies (validation for early stopping and the learning-rate
  schedule, test for the table) are the same on every rank.
- Features: replicated (every rank has ``data.x``; the loaders gather
  locally) or, with ``macrobatch = k >= 1``, sharded by node range and
  fetched ``k`` batches per exchange (:mod:`ibmb.distributed.features`).
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Iterator, Optional

import numpy as np

from ibmb.distributed import shard
from ibmb.distributed.features import ShardedFeatures, Traffic, macrobatched
from ibmb.train.config import Config
from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows, get
from ibmb.train.methods.ibmb_common import IBMBMethod, infer_outputs_per_batch

__all__ = ["DistributedMethod", "SUPPORTED"]

SUPPORTED = ("ibmb-node", "ibmb-batch")


class DistributedMethod(BaseMethod):
    """Method ``name`` (``"ibmb-node"`` or ``"ibmb-batch"``) on rank
    ``ctx.rank`` of ``ctx.world_size``; ``macrobatch``: 0 for replicated
    features, ``k >= 1`` for sharded features fetched ``k`` batches per
    exchange (default: ``cfg.macrobatch``)."""

    uses_edge_weight = True
    can_save_batches = False

    def __init__(self, name: str, data: Any, cfg: Config, ctx: Any, macrobatch: Optional[int] = None) -> None:
        if name not in SUPPORTED:
            raise ValueError(f"method {name!r} has no distributed version; choose from {', '.join(SUPPORTED)}")
        import torch

        super().__init__(data, cfg)
        self.name, self.ctx = name, ctx
        self.k = int(getattr(cfg, "macrobatch", 0) if macrobatch is None else macrobatch)
        self.store: Optional[ShardedFeatures] = None
        if self.k > 0:
            self.store = ShardedFeatures.from_full(ctx, data.x)
            data = copy.copy(data)  # the loaders see no features: batch.x comes from the exchange
            data.x = torch.empty((data.num_nodes, 0), dtype=torch.uint8)
        self.inner: IBMBMethod = get(name)(data, cfg)
        self.steps, self.local_batches = 0, 0
        self.epoch_traffic: list[Traffic] = []

    # ------------------------------------------------------------ batches
    def _loader(self, outputs: np.ndarray, order: Optional[str]) -> Any:
        """ibmb's loader over this rank's share of ``outputs`` (global node
        ids), or None when its share is empty."""
        import torch

        inner, c, d = self.inner, self.cfg, self.inner.data
        if self.name == "ibmb-node" and len(outputs) == 0:
            return None
        mask = torch.zeros(d.num_nodes, dtype=torch.bool)
        mask[torch.from_numpy(outputs)] = True
        kw = inner.common()
        if self.k > 0:
            kw["store_features"] = False
        train = order is not None
        if self.name == "ibmb-node":
            npb = c.num_nodes_per_batch if train else infer_outputs_per_batch(c, "node")
            return inner.loader_class()(d, order, mask, c.num_auxiliary_nodes, npb, **kw)
        parts, k, ratio = self._partition(outputs, train)
        mine = shard.parts_mask(parts, outputs, shard.assign_parts(parts, outputs, self.ctx.world_size)[self.ctx.rank])
        if not mine.any():
            return None
        return inner.loader_class()(d, order, k, torch.from_numpy(mine), ratio, partitions=parts, **kw)

    def _partition(self, outputs: np.ndarray, train: bool) -> tuple[np.ndarray, int, float]:
        """The whole graph's partition for these outputs (computed on every
        rank with the seed, checked equal), the part count and the expand
        ratio, as the single-process ``ibmb-batch`` chooses them."""
        from ibmb.batching import partition
        from ibmb.sampler import graph_of

        c = self.cfg
        npb = c.num_nodes_per_batch if train else infer_outputs_per_batch(c, "batch")
        k = c.num_partitions if train and c.num_partitions else shard.num_parts(len(outputs), npb)
        ratio = c.batch_expand_ratio if train or not c.infer_expand_ratio else c.infer_expand_ratio
        key = ("partitions", k, c.seed)
        parts = self._cache.get(key)
        if parts is None:
            parts = partition(graph_of(self.inner.data), k, seed=c.seed)
            shard.check_same(self.ctx, parts, f"partitions ({k} parts)")
            self._cache[key] = parts
        return parts, k, ratio

    def _all_outputs(self, mask: Any) -> np.ndarray:
        return np.flatnonzero(mask.cpu().numpy())

    def _my_outputs(self, mask: Any, train: bool = True) -> np.ndarray:
        """The outputs this rank builds batches for: node-wise its chunk
        (inference: whole inference batches' worth, see
        :func:`~ibmb.distributed.shard.batch_chunk`), batch-wise all of them
        (the loader keeps those of its parts)."""
        if self.name == "ibmb-node":
            if not train:
                return shard.batch_chunk(mask, self.ctx.rank, self.ctx.world_size,
                                         infer_outputs_per_batch(self.cfg, "node"))
            return shard.chunk(mask, self.ctx.rank, self.ctx.world_size)
        return self._all_outputs(mask)

    def prepare(self) -> str:
        self.loader = self._loader(self._my_outputs(self.data.train_mask), self.cfg.batch_order)
        self.local_batches = 0 if self.loader is None else self.loader.num_batches
        self.steps = shard.agree_max(self.ctx, self.local_batches)
        if shard.agree_max(self.ctx, int(self.local_batches == 0)):  # every rank raises the same error
            raise ValueError(f"{self.name}: some of the {self.ctx.world_size} ranks got no training batches (fewer "
                             "output nodes or parts than ranks): use fewer ranks or smaller batches")
        st = self.loader.stats()
        feats = "replicated" if self.store is None else \
            f"sharded ({self.store.nbytes / 2**20:.0f} MiB here), {self.k} batches per exchange"
        return (f"{self.ctx.world_size} ranks ({self.ctx.backend}), {self.steps} steps/epoch (rank {self.ctx.rank}: "
                f"{self.local_batches} batches, {self.steps - self.local_batches} repeated), arena "
                f"{st['arena_bytes'] / 2**20:.0f} MiB, features {feats}")

    def train_batches(self) -> Iterator[Any]:
        before = None if self.store is None else self.store.traffic.copy()
        it = shard.padded(self.loader, self.steps)
        if self.store is not None:
            it = macrobatched(it, self.store, self.k, count=self.steps)
        yield from it
        if before is not None:
            self.epoch_traffic.append(self.store.traffic.minus(before))

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        return self.inner.targets(batch)

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        return self.inner.outputs(batch)

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        if path is not None:
            raise ValueError("saved batches (--batches) are not supported with several ranks")
        loader = self._loader(self._my_outputs(mask, train=False), None)
        note = f"{self.name}, rank {self.ctx.rank}'s shard"
        if loader is None:  # nothing to infer here; predict still joins the exchanges and the gather
            return InferenceBatches([], note + " (empty)", 0)
        return InferenceBatches(loader, note, loader.num_batches)

    # -------------------------------------------------------------- model
    def build_model(self, in_channels: int, num_classes: int) -> Any:
        import torch
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = self.inner.build_model(in_channels, num_classes).to(self.device)
        dev = torch.device(self.device)
        ddp = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None, broadcast_buffers=False)
        # Dropout differs between ranks (the weights come from rank 0).
        torch.manual_seed(self.cfg.seed * 1009 + self.ctx.rank)
        return ddp

    def train_step(self, model: Any, batch: Any, optimizer: Any) -> Optional[float]:
        import torch.nn.functional as F

        rows, y = self.targets(batch)
        keep = y >= 0
        optimizer.zero_grad()
        logits = self.forward(model, batch)[rows]
        loss = F.cross_entropy(logits[keep], y[keep]) if bool(keep.any()) else logits.sum() * 0.0
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def predict(self, model: Any, batches: Iterable[Any]) -> tuple[Any, Any]:
        """Every rank's predictions over its shard, gathered on every rank
        (rank order): ``(ids [k], classes [k])``."""
        import torch

        net = getattr(model, "module", model)  # no DDP hooks outside training
        it: Iterable[Any] = batches
        if self.store is not None:
            it = macrobatched(batches, self.store, self.k)
        ids, pred = super().predict(net, it)
        return gather_predictions(self.ctx, ids, pred)

    def traffic_note(self) -> str:
        """Bytes exchanged per training epoch on this rank (median), or ''."""
        if not self.epoch_traffic:
            return ""
        sent = float(np.median([t.sent for t in self.epoch_traffic]))
        recv = float(np.median([t.received for t in self.epoch_traffic]))
        secs = float(np.median([t.seconds for t in self.epoch_traffic]))
        return (f"; per epoch rank {self.ctx.rank} sent {sent / 2**20:.1f} MiB, received {recv / 2**20:.1f} MiB "
                f"in {secs:.2f} s of exchanges")


def gather_predictions(ctx: Any, ids: Any, pred: Any) -> tuple[Any, Any]:
    """All ranks' ``[k_r]`` ids and predictions, concatenated in rank order
    on every rank (two all-gathers of padded tensors)."""
    import torch
    import torch.distributed as dist

    both = torch.stack([ids.to(torch.int64).cpu(), pred.to(torch.int64).cpu()])
    n = torch.tensor([both.shape[1]], dtype=torch.int64)
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(ctx.world_size)]
    dist.all_gather(sizes, n, group=ctx.group)
    m = max(int(s.item()) for s in sizes)
    pad = torch.full((2, m), -1, dtype=torch.int64)
    pad[:, :both.shape[1]] = both
    every = [torch.empty((2, m), dtype=torch.int64) for _ in range(ctx.world_size)]
    dist.all_gather(every, pad, group=ctx.group)
    out = torch.cat([e[:, :int(s.item())] for e, s in zip(every, sizes)], dim=1)
    return out[0], out[1]
