"""``ibmb-node-hist``, ``ibmb-batch-hist`` and ``gas`` on several ranks with
one shared history (:class:`~ibmb.distributed.history.ShardedHistory`).

- Batches: node-wise and batch-wise, each rank's share as for ``ibmb-node``
  / ``ibmb-batch`` (:class:`~ibmb.distributed.method.DistributedMethod`'s
  sharding), expanded by their halos (kept per batch, as one process does);
  ``gas``: every rank draws the same cluster groups each epoch (same seed)
  and takes groups ``rank, rank + W, ...``. Equal steps per epoch (smaller
  shares repeat their first batches).
- Histories: rank ``r`` stores the rows of its node range; each ``k``
  batches (``k = max(1, --macrobatch)``) one exchange sends the pushes of
  the previous ``k`` steps to their owners and pulls the halo rows of the
  next ``k`` batches (and their feature rows with ``--macrobatch >= 1``:
  then features are sharded too). See :mod:`ibmb.distributed.history` for
  when a push becomes visible and how stale a pulled row may be.
- Model: the ``ibmb.nn`` model over the sharded history, in DDP; the
  histories are filled by distributed exact inference after rank 0's
  weights reach every rank.
- Inference (validation and test): exact layer-wise inference, each rank
  computing the nodes it owns; before layer ``l`` one exchange pulls the
  layer ``l - 1`` rows its batches need. Predictions are gathered.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Iterator, Optional

import numpy as np

from ibmb.distributed import shard
from ibmb.distributed.features import ShardedFeatures
from ibmb.distributed.history import HistTraffic, ShardedHistory, macrobatched_history
from ibmb.train.config import Config
from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows, get

__all__ = ["DistributedHistMethod", "HIST_METHODS"]

HIST_METHODS = ("ibmb-node-hist", "ibmb-batch-hist", "gas")
_PLAIN = {"ibmb-node-hist": "ibmb-node", "ibmb-batch-hist": "ibmb-batch"}


def refuse_momentum(cfg: Any) -> None:
    """ValueError when ``cfg`` (a Config, or the command's parsed arguments)
    asks for ``--history-momentum``, which runs in one process only."""
    if float(getattr(cfg, "history_momentum", 1.0)) != 1.0:
        raise ValueError("--history-momentum (experimental) runs in one process only; leave it 1 with --nproc or "
                         "torchrun")


class DistributedHistMethod(BaseMethod):
    """History method ``name`` on rank ``ctx.rank``; ``macrobatch`` (default
    ``cfg.macrobatch``): 0 = replicated features, history exchanged every
    batch; ``k >= 1`` = features sharded too, both exchanged every ``k``
    batches."""

    uses_edge_weight = True
    can_save_batches = False

    def __init__(self, name: str, data: Any, cfg: Config, ctx: Any, macrobatch: Optional[int] = None) -> None:
        if name not in HIST_METHODS:
            raise ValueError(f"{name!r} is not a history method ({', '.join(HIST_METHODS)})")
        super().__init__(data, cfg)
        self.name, self.ctx = name, ctx
        self.kf = int(getattr(cfg, "macrobatch", 0) if macrobatch is None else macrobatch)
        self.k = max(1, self.kf)
        self.inner = get(name)(data, cfg)
        self.hist: Optional[ShardedHistory] = None
        self.store: Optional[ShardedFeatures] = None
        self.steps, self.local_batches = 0, 0
        self.epoch_traffic: list[HistTraffic] = []
        self._infer: Optional[list] = None

    # ------------------------------------------------------------ batches
    def _base_loader(self) -> Any:
        """This rank's share of the inner method's training batches (n_id, batch_size), or None."""
        inner, c, ctx = self.inner, self.cfg, self.ctx
        if self.name == "gas":
            return _Dealt(inner.base_loader(), ctx.rank, ctx.world_size)
        from ibmb.distributed.method import DistributedMethod

        plain = DistributedMethod(_PLAIN[self.name], self.data, c, ctx, macrobatch=0)
        self._plain = plain
        return plain._loader(plain._my_outputs(self.data.train_mask), c.batch_order)

    def prepare(self) -> str:
        import torch
        from torch_geometric.data import Data

        import ibmb.nn as inn
        from ibmb.train.methods.hist_common import _CachedHalos

        inner, d = self.inner, self.data
        x = inner.x_in
        if self.kf > 0:
            self.store = ShardedFeatures.from_full(self.ctx, x)
            x = torch.empty((d.num_nodes, 0), dtype=torch.uint8)  # the batches' x comes from the exchange
        src = Data(x=x, y=d.y, num_nodes=d.num_nodes)
        base = self._base_loader()
        self.local_batches = 0 if base is None else len(base)
        self.steps = shard.agree_max(self.ctx, self.local_batches)
        if shard.agree_max(self.ctx, int(self.local_batches == 0)):
            raise ValueError(f"{self.name}: some of the {self.ctx.world_size} ranks got no training batches: use "
                             "fewer ranks or smaller batches")
        self.loader = (_CachedHalos(base, inner.halo, src) if inner.cache_halos else
                       inn.HaloLoader(base, inner.halo, src))
        lo, hi = self._range()
        self._infer = inner.halo.batches(inner.infer_nodes_per_batch, nodes=np.arange(lo, hi, dtype=np.int64))
        self.work = {"epochs": 0, "rows": 0, "exact": 0, "edges": 0}
        feats = "replicated" if self.store is None else f"sharded ({self.store.nbytes / 2**20:.0f} MiB here)"
        return (f"{self.ctx.world_size} ranks ({self.ctx.backend}), {self.steps} steps/epoch (rank {self.ctx.rank}: "
                f"{self.local_batches} batches), halo + shared histories (nodes [{lo}, {hi}) here), {self.k} "
                f"batches per exchange, features {feats}{', Â·X in layer 1' if self.cfg.agg_features else ''}")

    def _range(self) -> tuple[int, int]:
        b = shard.node_bounds(self.data.num_nodes, self.ctx.world_size)
        return int(b[self.ctx.rank]), int(b[self.ctx.rank + 1])

    def train_batches(self) -> Iterator[Any]:
        before = self.hist.traffic.copy()
        w = self.work
        w["epochs"] += 1
        for b in macrobatched_history(shard.padded(self.loader, self.steps), self.hist, self.k, self.steps,
                                      self.store):
            w["rows"] += int(b.n_id.shape[0])
            w["exact"] += int(b.num_exact)
            w["edges"] += int(b.edge_index.shape[1])
            yield b
        self.epoch_traffic.append(self.hist.traffic.minus(before))

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        return self.inner.targets(batch)

    def to_device(self, batch: Any) -> Any:
        if self.device == "cpu":
            return batch
        rows = batch.halo_rows
        del batch.halo_rows  # kept on the CPU: push_and_pull moves them
        out = batch.to(self.device, non_blocking=True)
        out.halo_rows = rows
        return out

    def forward(self, model: Any, batch: Any) -> Any:
        return model(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=int(batch.num_exact),
                     halo_rows=getattr(batch, "halo_rows", None))

    def train_step(self, model: Any, batch: Any, optimizer: Any) -> Optional[float]:
        import torch.nn.functional as F

        rows, y = self.targets(batch)
        keep = y >= 0
        optimizer.zero_grad()
        logits = self.forward(model, batch)[rows]  # every rank steps (DDP's all-reduce), labelled rows or not
        loss = F.cross_entropy(logits[keep], y[keep]) if bool(keep.any()) else logits.sum() * 0.0
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    # -------------------------------------------------------------- model
    def build_model(self, in_channels: int, num_classes: int) -> Any:
        import torch
        from torch.nn.parallel import DistributedDataParallel as DDP

        from ibmb.train.methods.hist_common import _HEADS

        c = self.cfg
        refuse_momentum(c)
        cls = self.inner.model_class()
        width = {"GAT": _HEADS * c.hidden}.get(cls.__name__, c.hidden)
        self.hist = ShardedHistory(self.ctx, self.data.num_nodes, [width] * (c.layers - 1))
        kw: dict = dict(num_layers=c.layers, dropout=c.dropout, histories=self.hist)
        if cls.__name__ == "GAT":
            kw["heads"] = _HEADS
        if c.agg_features:
            kw["aggregated_input"] = True
        model = cls(self.data.num_nodes, in_channels, c.hidden, num_classes, **kw).to(self.device)
        dev = torch.device(self.device)
        ddp = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None, broadcast_buffers=False)
        self.inference(model)  # histories from rank 0's weights, as one process fills them
        torch.manual_seed(c.seed * 1009 + self.ctx.rank)  # dropout differs between ranks
        return ddp

    # ------------------------------------------------------------ inference
    def inference(self, model: Any) -> Any:
        """Exact layer-wise inference of this rank's nodes ``[lo, hi)``
        (a collective): returns their ``[hi - lo, C]`` outputs and leaves
        every rank's history rows equal to the exact embeddings."""
        import torch

        net = getattr(model, "module", model)
        hist, batches, L = self.hist, self._infer, net.num_layers
        lo, hi = self._range()
        dev = torch.device(self.device)
        was = net.training
        net.eval()
        grad = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        try:
            hist.exchange(torch.empty(0, dtype=torch.int64))  # apply leftover training pushes first
            need = torch.unique(torch.cat([hb.n_id for hb in batches])) if batches else \
                torch.empty(0, dtype=torch.int64)
            x = self.inner.x_in
            if self.store is not None:
                x_rows = hist.exchange(need[:0], features=self.store, feature_ids=need)[1]
            states: list[dict] = [{} for _ in batches]
            out = None
            rows: Any = None
            for layer in range(L):
                if layer > 0:  # the previous layer's pushes are applied, then its rows pulled
                    rows = hist.exchange(need, layers=[layer - 1])[0][0]
                for hb, state in zip(batches, states):
                    ids, ne = hb.n_id, hb.num_exact
                    pick = ids if layer > 0 or not net.aggregated_input else ids[:ne]
                    if layer == 0:
                        h = (x.index_select(0, pick) if self.store is None else
                             x_rows.index_select(0, torch.searchsorted(need, pick))).to(dev, torch.float32)
                    else:
                        h = rows.index_select(0, torch.searchsorted(need, ids)).to(dev, torch.float32)
                    if layer == 0 and net.aggregated_input:
                        h = net.forward_aggregated(h, state)
                    else:
                        h = net.forward_layer(layer, h, hb.edge_index.to(dev), hb.edge_weight.to(dev), state)[:ne]
                    if layer < L - 1:
                        hist.push(layer, h.to("cpu", hist.dtype).contiguous(), ids[:ne])
                    else:
                        if out is None:
                            out = torch.empty((hi - lo, h.shape[1]), dtype=h.dtype, device=dev)
                        out[(ids[:ne] - lo).to(dev)] = h
            return out
        finally:
            torch.set_grad_enabled(grad)
            net.train(was)

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        return InferenceBatches([mask], "exact layer-wise inference, each rank its node range (validation alike)", 1)

    def predict(self, model: Any, batches: Iterable[Any]) -> tuple[Any, Any]:
        import torch

        from ibmb.distributed.method import gather_predictions

        masks = list(batches)
        out = self.inference(model)
        lo, hi = self._range()
        ids = torch.cat([m[lo:hi].nonzero().view(-1) + lo for m in masks]) if masks else \
            torch.empty(0, dtype=torch.long)
        pred = out[(ids - lo).to(out.device)].argmax(-1).cpu() if out is not None else ids[:0]
        return gather_predictions(self.ctx, ids, pred)

    def train_note(self) -> str:
        w = getattr(self, "work", None)
        if not w or not w["epochs"]:
            return ""
        e = w["epochs"]
        return f"per epoch {w['rows'] / e:,.0f} rows ({w['exact'] / e:,.0f} exact) on rank {self.ctx.rank}"

    def traffic_note(self) -> str:
        """Bytes exchanged per training epoch on this rank (median), or ''."""
        if not self.epoch_traffic:
            return ""
        med = (lambda f: float(np.median([getattr(t, f) for t in self.epoch_traffic])))
        return (f"; per epoch rank {self.ctx.rank} sent {med('sent') / 2**20:.1f} MiB (history "
                f"{med('hist_sent') / 2**20:.1f}), received {med('received') / 2**20:.1f} MiB (history "
                f"{med('hist_received') / 2**20:.1f}) in {med('exchanges'):.0f} exchanges, {med('seconds'):.2f} s")


class _Dealt:
    """Groups ``rank, rank + W, ...`` of a loader whose every rank iterates
    the same groups (GAS: the same seeded shuffle on every rank)."""

    def __init__(self, loader: Any, rank: int, world: int) -> None:
        self.loader, self.rank, self.world = loader, rank, world

    def __len__(self) -> int:
        n = len(self.loader)
        return max(0, math.ceil((n - self.rank) / self.world))

    def __iter__(self) -> Iterator[Any]:
        for i, b in enumerate(self.loader):
            if i % self.world == self.rank:
                yield b
