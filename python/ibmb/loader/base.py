"""The loader side shared by both IBMB loaders: a real
``torch.utils.data.DataLoader`` over an :class:`~ibmb.arena.Arena`.

``loader.dataset`` is the arena (``dataset[b]`` is batch ``b``'s
:class:`~ibmb.arena.ArenaBatch` views), ``loader.sampler`` yields the batch
order of each epoch, ``loader.batch_size`` arena batches are merged per step
(by the engine's step inducer, :mod:`ibmb.loader.merge`) and ``collate_fn``
turns views into a ``Data`` (:mod:`ibmb.loader._convert`). Iterating serves
them through :func:`ibmb.loader.prefetch.pipeline` in this process.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Iterator, Optional, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from ibmb._arrays import as_int
from ibmb.arena import Arena, ArenaBatch
from ibmb.batching import Batches
from ibmb.graph import CSRGraph
from ibmb.loader import prefetch as P
from ibmb.loader._convert import Converter
from ibmb.loader._halo import HaloGraph, HaloMerger
from ibmb.loader._source import Source
from ibmb.loader.merge import StepMerger
from ibmb.order import BatchOrder

__all__ = ["IBMBLoader", "BatchOrderSampler", "ORDERS"]

ORDERS = ("order", "sample", "rand", None)
# DataLoader arguments that make no difference here: batches are prepared
# up front and served in this process.
_IGNORED = ("pin_memory", "timeout", "worker_init_fn", "multiprocessing_context", "generator", "prefetch_factor",
            "persistent_workers", "pin_memory_device", "in_order", "collate_fn")
_warned_workers = False


def check_order(batch_order: Optional[str]) -> None:
    if batch_order not in ORDERS:
        raise ValueError(f"batch_order must be 'order', 'sample', 'rand' or None, got {batch_order!r}")


class BatchOrderSampler(Sampler):
    """Yields the ``num_batches`` arena batch ids in the order of each epoch:
    ``"order"``/``"sample"`` from a :class:`~ibmb.order.BatchOrder`,
    ``"rand"`` a permutation seeded by ``(seed, epoch)``, None ascending."""

    def __init__(self, num_batches: int, mode: Optional[str], order: Optional[BatchOrder], seed: int) -> None:
        self.num_batches, self.mode, self.order, self.seed, self.epoch = num_batches, mode, order, seed, 0

    def __iter__(self) -> Iterator[int]:
        self.epoch += 1
        if self.mode == "rand":
            ids = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_batches)
        elif self.order is not None:
            ids = self.order.epoch()
        else:
            ids = np.arange(self.num_batches)
        return iter(ids.tolist())

    def __len__(self) -> int:
        return self.num_batches


class Collate:
    """``collate_fn``: the ``Data`` of a list of arena batch views (merged by
    ``merger`` when several). It holds no reference to the loader, so a
    loader is freed by reference counting alone."""

    def __init__(self, converter: Converter, merger: Union[StepMerger, HaloMerger, None]) -> None:
        self.converter, self.merger = converter, merger

    def __call__(self, views: list[ArenaBatch]) -> Any:
        if len(views) == 1:
            return self.converter.to_data(views[0])
        if self.merger is None:
            raise ValueError("merging batches needs the full graph, which this loader does not have")
        return self.converter.to_data(self.merger.merge(views))


class IBMBLoader(DataLoader):
    """Serves the batches of ``arena`` (see the module doc); the subclasses
    :class:`~ibmb.loader.IBMBNodeLoader` and
    :class:`~ibmb.loader.IBMBBatchLoader` compute the arena first.

    Args:
        arena: the materialized batches.
        source: the checked ``data`` (its ``x`` and ``y`` are the full
            graph's; rows the arena lacks are gathered), or None when the
            arena stores features (labels then come from the arena).
        batches: the arena's :class:`~ibmb.batching.Batches` when known
            (else read from the engine on first use).
        merge_graph: the graph the arena was built over (for ``batch_size >
            1``), None when merging is not possible; for halo batches the
            :class:`~ibmb.loader._halo.HaloGraph` they were built with.
        params: the arena's parameters (``norm``: the edge values, see
            :mod:`ibmb.loader._convert`; ``alpha``, ``eps``,
            ``add_self_loops``).
        batch_order, return_edge_index_type, device, prefetch, seed,
        **kwargs: as the subclasses document.
    """

    def __init__(self, arena: Arena, *, source: Optional[Source], merge_graph: Union[CSRGraph, HaloGraph, None],
                 params: dict,
                 batches: Optional[Batches] = None, batch_order: Optional[str] = "order",
                 return_edge_index_type: str = "edge_index", device: Any = None, prefetch: int = 2, seed: int = 0,
                 **kwargs: Any) -> None:
        batch_size = as_int(kwargs.pop("batch_size", 1), "batch_size (batches merged per step)", min=1)
        shuffle = bool(kwargs.pop("shuffle", False))
        drop_last = bool(kwargs.pop("drop_last", False))
        num_workers = as_int(kwargs.pop("num_workers", 0) or 0, "num_workers", min=0)
        prefetch = as_int(prefetch, "prefetch", min=0)
        seed = as_int(seed, "seed", min=0, max=2**63 - 1)
        if kwargs.pop("sampler", None) is not None or kwargs.pop("batch_sampler", None) is not None:
            raise ValueError("sampler/batch_sampler conflict with batch_order: IBMB loaders order their batches "
                             "themselves (batch_order='order', 'sample', 'rand' or None)")
        for k in _IGNORED:
            kwargs.pop(k, None)
        if kwargs:
            raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        check_order(batch_order)
        if shuffle and batch_order in ("order", "sample"):
            raise ValueError(f"shuffle=True conflicts with batch_order={batch_order!r}: use batch_order='rand' "
                             "(or shuffle=False)")
        if shuffle:
            batch_order = "rand"
        if return_edge_index_type not in ("edge_index", "adj"):
            raise ValueError(f"return_edge_index_type must be 'edge_index' or 'adj', got {return_edge_index_type!r}")
        if num_workers > 0:
            global _warned_workers
            if not _warned_workers:
                warnings.warn(f"num_workers={num_workers} ignored: ibmb iterates in the main process with a prefetch "
                              "thread (its batches are precomputed, and forking a process that runs the Go runtime "
                              "can hang)", stacklevel=4)
                _warned_workers = True
        class_y = None if source is None else source.class_y
        if class_y is None:
            class_y = arena.node_labels()
        if batch_order in ("order", "sample") and class_y is None:
            raise ValueError(f"batch_order={batch_order!r} needs integer class labels y ([N] or [N, 1]); use "
                             "batch_order='rand' or None")
        if batch_size > 1 and merge_graph is None:
            raise ValueError("batch_size > 1 merges batches over the full graph, which a loaded loader does not "
                             "have: pass data to load()")
        self.converter = Converter(None if source is None else source.x, None if source is None else source.y,
                                   return_edge_index_type)
        self.arena, self.params, self.batch_order = arena, params, batch_order
        self.norm = str(params["norm"])
        self.alpha, self.eps = float(params["alpha"]), float(params["eps"])
        self.add_self_loops = bool(params.get("add_self_loops", False))
        self.halo: Optional[str] = params.get("halo") if arena.has_halo else None  # the halo's norm, or None
        self.return_edge_index_type = return_edge_index_type
        self.device = P.torch_device(device)
        self.prefetch = prefetch
        self._class_y, self._graph = class_y, merge_graph
        if batches is not None:
            self.__dict__["_batches"] = batches
        order = None
        if batch_order in ("order", "sample") and arena.num_batches > 1:
            order = BatchOrder(self.batches, class_y, mode=batch_order, seed=seed)
        self._merger: Union[StepMerger, HaloMerger, None] = None
        if batch_size > 1 and arena.num_batches > 1:
            labels = class_y if arena.has_labels else None
            if arena.has_halo:
                if not isinstance(merge_graph, HaloGraph):
                    raise ValueError("merging halo batches needs the halo graph they were built with")
                self._merger = HaloMerger(merge_graph, labels)
            else:
                self._merger = StepMerger(merge_graph, arena.norm, labels)
        self._pin: Optional[P.HostRegistration] = None
        super().__init__(arena, batch_size=batch_size, drop_last=drop_last,
                         sampler=BatchOrderSampler(arena.num_batches, batch_order, order, seed),
                         collate_fn=Collate(self.converter, self._merger), num_workers=0)

    # ----------------------------------------------------------------- info
    @property
    def batches(self) -> Any:
        """The :class:`~ibmb.batching.Batches` the arena holds (read from the
        engine once)."""
        b = self.__dict__.get("_batches")
        if b is None:
            b = self.__dict__["_batches"] = self.arena.batches()
        return b

    @property
    def num_batches(self) -> int:
        """Number of precomputed batches."""
        return self.arena.num_batches

    def stats(self) -> dict:
        """Sizes: batches, nodes and edges in the arena, arena bytes and the
        bytes of the graph it came from (CSR + features + labels)."""
        sizes = self.arena.sizes()
        gbytes = 0
        if self._graph is not None:
            gbytes += (self._graph.num_nodes + 1) * 8 + self._graph.num_edges * 4
        for t in (self.converter.x, self.converter.y):
            if t is not None:
                gbytes += t.numel() * t.element_size()
        return {"num_batches": self.num_batches, "num_nodes": int(sizes[:, 0].sum()),
                "num_edges": int(sizes[:, 1].sum()), "num_outputs": int(sizes[:, 2].sum()),
                "arena_bytes": self.arena.nbytes, "graph_bytes": int(gbytes), "halo": self.halo,
                "features_in_arena": self.arena.row_bytes > 0}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_batches={self.num_batches}, batch_size={self.batch_size}, "
                f"batch_order={self.batch_order!r}, norm={self.norm!r}, arena_bytes={self.arena.nbytes:,})")

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the prepared batches (and the parameters that made them) to
        one file, atomically; ``load`` serves them without preprocessing."""
        self.arena.save(os.fspath(path))

    # ------------------------------------------------------------ iteration
    def _make(self, group: list[int], stream: Any) -> tuple[Any, Any]:
        data = self.collate_fn([self.arena[b] for b in group])
        pinned = len(group) == 1 and self._pin is not None and self._pin.ok
        return P.to_device(data, self.device, stream, pinned)

    def _ready(self, data: Any, event: Any) -> Any:
        return self.converter.ready(P.wait_ready(data, event, self.device), self.device)

    def __iter__(self) -> Iterator[Any]:
        stream = None
        if self.device.type == "cuda":
            if self._pin is None:  # page-lock the arena once (undone when the loader goes)
                self._pin = P.HostRegistration(self.arena)
            stream = torch.cuda.Stream(device=self.device)
        # Zero-copy CPU views leave nothing worth overlapping.
        threaded = not (self.device.type == "cpu" and self.batch_size == 1 and self.arena.row_bytes > 0)
        return P.pipeline(iter(self.batch_sampler), lambda g: self._make(g, stream), self._ready, self.prefetch,
                          threaded)
