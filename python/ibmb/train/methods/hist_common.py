"""What the history methods (``ibmb-node-hist``, ``ibmb-batch-hist``,
``gas``) share: GNNAutoScale's scheme on top of a method's own batches.

Each training batch (a set of nodes, ``batch_size`` outputs first) is
expanded by its one-hop halo (:class:`ibmb.nn.Halo`; computed once per
batch for IBMB's fixed batches, per step for GAS's): every batch node
is computed exactly with all its in-edges at the full graph's edge weights,
the halo's hidden embeddings are pulled from per-layer histories
(:class:`ibmb.nn.HistoryGNN`) and the batch's fresh ones pushed. Evaluation
(validation and test alike) is the model's exact layer-wise inference over
all nodes (:meth:`ibmb.nn.HistoryGNN.inference`, equal to the full-batch
forward), which also refreshes every history; the histories are filled the
same way once when the model is built.

``Config.history_momentum`` (experimental): GraphFM's in-batch momentum on
the pushes (:class:`ibmb.nn.HistoryGNN`'s ``history_momentum``).

``Config.agg_features``: the first layer reads the cached aggregated
features ``Â·X`` (:func:`ibmb.features.aggregate`, computed once, timed as
preprocessing) and runs on the batch's exact rows only (gcn only).

Models: ``cfg.model`` gcn, sage or gat as :mod:`ibmb.nn` models with the
widths, depth and dropout of the other methods (gat: 4 heads, as
:class:`ibmb.train.models.GAT`; its attention dropout is ``cfg.dropout`` too).
"""
from __future__ import annotations

import importlib
from typing import Any, ClassVar, Iterable, Iterator, Optional

from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows

__all__ = ["HistMethod"]

_HEADS = 4  # GAT heads, as ibmb.train.models.GAT


def nn_class(model: str) -> Any:
    """The :mod:`ibmb.nn` class of ``Config.model``."""
    import ibmb.nn as inn

    classes = {"gcn": inn.GCN, "sage": inn.SAGE, "gat": inn.GAT}
    cls = classes.get(str(model).lower())
    if cls is None:
        raise ValueError(f"history methods train {', '.join(classes)}; got model {model!r}")
    return cls


class HistMethod(BaseMethod):
    """Base of the history methods: subclasses give :meth:`base_loader`
    (re-iterable training batches with ``n_id`` and ``batch_size``) and, where
    the rows trained on are not the first ``batch_size``, :meth:`targets`."""

    uses_edge_weight = True
    can_save_batches = False
    infer_nodes_per_batch = 4096  # exact nodes per layer-wise inference batch
    # IBMB's training batches are fixed node sets (only their order changes): their halos are computed once and
    # kept (ids, edges, weights; the feature rows are gathered per step). GAS regroups its clusters every epoch.
    cache_halos = True

    # ------------------------------------------------------------ the graph
    def model_class(self) -> Any:
        cls = nn_class(self.cfg.model)
        if self.cfg.agg_features and cls.__name__ != "GCN":
            raise ValueError(f"--agg-features needs --model gcn (its first layer is Â·X·W); got {self.cfg.model!r}")
        return cls

    @property
    def halo(self) -> Any:
        """The graph's :class:`ibmb.nn.Halo` in the model's convention (built once)."""
        if getattr(self, "_halo", None) is None:
            import ibmb.nn as inn

            cls = self.model_class()
            self._halo = inn.Halo(self.data.edge_index, self.data.num_nodes, add_self_loops=cls.add_self_loops,
                                  norm=cls.norm)
        return self._halo

    @property
    def x_in(self) -> Any:
        """``[N, F]`` model inputs: ``data.x``, or ``Â·X`` with ``agg_features``."""
        if getattr(self, "_x_in", None) is None:
            x = self.data.x
            if self.cfg.agg_features:
                import numpy as np

                from ibmb.features import aggregate
                from ibmb.graph import CSRGraph

                cls = self.model_class()
                ei = np.ascontiguousarray(self.data.edge_index.cpu().numpy()[::-1])  # rows: targets
                g = CSRGraph.from_edge_index(ei, self.data.num_nodes, add_self_loops=cls.add_self_loops,
                                             drop_duplicates=True)
                x = aggregate(g, x.cpu().float().contiguous(), norm=cls.norm)
            self._x_in = x
        return self._x_in

    def inference_halo_batches(self) -> list:
        """Halo batches over all nodes for layer-wise inference (built once)."""
        if getattr(self, "_infer", None) is None:
            self._infer = self.halo.batches(self.infer_nodes_per_batch)
        return self._infer

    # ------------------------------------------------------------ training
    # The IBMB history methods take their training batches from the plain IBMB method named here (a
    # "module:Class" of this package, as in REGISTRY) and describe them as "<n> <batches_word>".
    inner_method: ClassVar[str] = ""
    batches_word: ClassVar[str] = "batches"

    def base_loader(self) -> Iterable[Any]:
        """Training batches (``n_id`` ``[B]``, outputs first, ``batch_size``): by default the training loader of
        :attr:`inner_method`, built as that method builds it."""
        if not self.inner_method:
            raise NotImplementedError(f"{type(self).__name__} names no inner_method and has no base_loader")
        module, cls = self.inner_method.split(":")
        inner = getattr(importlib.import_module(module, __package__), cls)
        self.inner = inner(self.data, self.cfg)
        return self.inner.build(self.data.train_mask, self.cfg.batch_order)

    def prepare(self) -> str:
        from torch_geometric.data import Data

        import ibmb.nn as inn

        d = self.data
        src = Data(x=self.x_in, y=d.y, num_nodes=d.num_nodes)
        self.base = self.base_loader()
        self.loader = _CachedHalos(self.base, self.halo, src, exact_x=bool(self.cfg.agg_features)) \
            if self.cache_halos else inn.HaloLoader(self.base, self.halo, src)
        self.inference_halo_batches()
        self.work = {"epochs": 0, "rows": 0, "exact": 0, "edges": 0}
        return (f"halo + histories{', Â·X in layer 1' if self.cfg.agg_features else ''}; "
                f"{self.base_note()}")

    def base_note(self) -> str:
        return f"{self.base.num_batches} {self.batches_word}" if self.inner_method else ""

    def train_batches(self) -> Iterator[Any]:
        w = self.work
        w["epochs"] += 1
        for b in self.loader:
            w["rows"] += int(b.n_id.shape[0])
            w["exact"] += int(b.num_exact)
            w["edges"] += int(b.edge_index.shape[1])
            yield b

    def train_note(self) -> str:
        """Rows (exact + halo) and edges per training epoch against the graph's."""
        w = getattr(self, "work", None)
        if not w or not w["epochs"]:
            return ""
        e = w["epochs"]
        return (f"per epoch {w['rows'] / e:,.0f} rows ({w['exact'] / e:,.0f} exact), {w['edges'] / e:,.0f} edges; "
                f"graph {self.halo.num_nodes:,} / {self.halo.num_edges:,}")

    def build_model(self, in_channels: int, num_classes: int) -> Any:
        c = self.cfg
        cls = self.model_class()
        kw: dict = dict(num_layers=c.layers, dropout=c.dropout)
        if cls.__name__ == "GAT":
            kw["heads"] = _HEADS
        if c.agg_features:
            kw["aggregated_input"] = True
        if c.history_momentum != 1.0:
            kw["history_momentum"] = c.history_momentum
        model = cls(self.data.num_nodes, in_channels, c.hidden, num_classes, **kw)
        # Fill the histories before the first step (GAS does the same with the initial weights).
        model.inference(self.x_in, self.halo, batches=self.inference_halo_batches())
        return model

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        n = int(batch.batch_size)
        return slice(0, n), batch.y[:n]

    def forward(self, model: Any, batch: Any) -> Any:
        rows, _ = self.targets(batch)  # the last layer computes only the rows the loss reads
        k = rows.stop if isinstance(rows, slice) and rows.start in (None, 0) and rows.step in (None, 1) else None
        return model(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=int(batch.num_exact),
                     num_outputs=k)

    # ------------------------------------------------------------ inference
    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        # One entry: the mask; predict runs exact layer-wise inference over all nodes and reads its nodes.
        return InferenceBatches([mask], "exact layer-wise inference over all nodes (validation alike)", 1)

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        ids = batch.nonzero().view(-1)
        return ids, ids

    def predict(self, model: Any, batches: Iterable[Any]) -> tuple[Any, Any]:
        import torch

        masks = list(batches)
        x = self.x_in if self.device == "cpu" else self.x_in.to(self.device)
        out = model.inference(x, self.halo, batches=self.inference_halo_batches())
        ids = torch.cat([m.nonzero().view(-1) for m in masks]) if masks else torch.empty(0, dtype=torch.long)
        return ids, out[ids.to(out.device)].argmax(-1).cpu()


class _CachedHalos:
    """Like :class:`ibmb.nn.HaloLoader` over a loader whose batches are fixed
    node sets: each set's :class:`~ibmb.nn.HaloBatch` is computed on first
    sight and reused; ``x`` and ``y`` rows are gathered per batch (``x``'s
    exact rows only with ``exact_x``: models fed ``Â·X`` read no others)."""

    def __init__(self, loader: Any, halo: Any, data: Any, exact_x: bool = False) -> None:
        self.loader, self.halo, self.data, self.exact_x = loader, halo, data, exact_x
        self.cache: dict = {}

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        import hashlib

        for batch in self.loader:
            ids = batch.n_id.cpu()
            key = (int(ids.shape[0]), hashlib.sha1(ids.numpy().tobytes()).hexdigest())
            hb = self.cache.get(key)
            if hb is None:
                hb = self.cache[key] = self.halo(ids)
            yield self.halo.materialize(hb, self.data, int(getattr(batch, "batch_size", hb.num_exact)), self.exact_x)
