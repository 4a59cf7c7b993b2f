"""``IBMBBatchLoader``: batch-wise IBMB batches served as PyG ``Data``."""
from __future__ import annotations

import os
from typing import Any, Optional, Union

import numpy as np

from ibmb.arena import Arena
from ibmb.graph import CSRGraph
from ibmb.loader._build import build, restore
from ibmb.loader._source import Source
from ibmb.loader.base import IBMBLoader, check_order
from ibmb.sampler import PYG_ALPHA, PYG_EPS, IBMBBatchSampler, _given_partitions, repartition

__all__ = ["IBMBBatchLoader"]


class IBMBBatchLoader(IBMBLoader):
    r"""Batch-wise influence-based mini-batching (Gasteiger et al., LoG 2022),
    with the arguments of PyG's ``IBMBBatchLoader``
    (``torch_geometric.loader.ibmb_loader``); a ``torch.utils.data.DataLoader``.

    The graph is partitioned into ``num_partitions`` parts (native deep multilevel
    partitioner, no METIS needed); each part with output nodes becomes a batch
    of its output nodes plus the ``ceil(batch_expand_ratio * N /
    num_partitions)`` nodes of highest topic-sensitive PageRank seeded by
    them (:class:`~ibmb.sampler.IBMBBatchSampler`). Batches are ``Data`` as
    :class:`~ibmb.loader.IBMBNodeLoader` describes.

    Args:
        data: a ``torch_geometric.data.Data`` with ``x``, ``edge_index`` and
            (for training) ``y``.
        batch_order: ``"order"``, ``"sample"``, ``"rand"`` or ``None`` (see
            :class:`~ibmb.loader.IBMBNodeLoader`). (default: ``"order"``)
        num_partitions: number of parts. (default: 8)
        input_nodes: output node ids or a bool mask (default: every node).
        batch_expand_ratio: batch size relative to the part size.
            (default: 1.0)
        metis_input_node_weight: partitioning weight of output nodes (other
            nodes weigh 1), rounded to an integer >= 1. (default: None)
        alpha: PPR teleport probability. (default: 0.2, PyG's; ibmb's
            training jobs use 0.25, see :mod:`ibmb.sampler`)
        approximate_ppr_iterations: accepted for compatibility; ibmb computes
            the topic-sensitive PPR by push to precision ``eps`` instead of a
            fixed number of power iterations.
        return_edge_index_type: ``"edge_index"`` or ``"adj"``.
        eps: PPR push threshold. (default: 1e-5)
        partitions: ibmb extension: a precomputed ``[N]`` part id per node in
            ``[0, num_partitions)``, e.g. another loader's ``.partitions``, so
            that loaders over train and test nodes of one graph partition it
            once (without ``metis_input_node_weight`` the partition does not
            depend on ``input_nodes``). (default: None: partition here)
        partition_method: ibmb extension: the partitioner, ``"ibmb"``,
            ``"kaminpar"`` or ``"metis"`` (the last two need their PyPI
            packages; see :func:`ibmb.batching.partition`). (default:
            ``"ibmb"``)
        norm, add_self_loops, store_features, device, prefetch, seed,
        num_threads, progress, arena, halo, arena_path, **kwargs: as
            :class:`~ibmb.loader.IBMBNodeLoader` (``norm`` defaults to PyG's
            ``"graph-rw"`` values); ``seed`` also seeds the partitioner.

    Attributes:
        partitions: the ``[N]`` int64 part id of every node. A loader made
            from saved batches recomputes it on first use from ``data`` and
            the saved parameters (the partitioner's result depends only on
            the graph, its weights and seed), or takes the ``partitions``
            given with the arena.
    """

    def __init__(self, data: Any, batch_order: Optional[str] = "order", num_partitions: int = 8,
                 input_nodes: Any = None, batch_expand_ratio: float = 1.0,
                 metis_input_node_weight: Optional[float] = None, alpha: float = PYG_ALPHA,
                 approximate_ppr_iterations: int = 50, return_edge_index_type: str = "edge_index", *,
                 eps: float = PYG_EPS, norm: Optional[str] = None, add_self_loops: Optional[bool] = None,
                 store_features: Optional[bool] = None, device: Any = None, prefetch: int = 2, seed: int = 0,
                 num_threads: int = 0, progress: Optional[bool] = None, partitions: Any = None,
                 partition_method: str = "ibmb", arena: Optional[Arena] = None, halo: Any = None,
                 arena_path: Any = None, **kwargs: Any) -> None:
        check_order(batch_order)
        batches = None
        self._ppr_graph: Optional[CSRGraph] = None
        self._partitions: Optional[np.ndarray] = None
        if arena is None:
            src = Source(data, input_nodes, need_y=batch_order in ("order", "sample"))
            sampler = IBMBBatchSampler(src.graph(False), num_partitions, src.inputs, batch_expand_ratio,
                                       metis_input_node_weight, alpha, eps, partitions=partitions, seed=seed,
                                       num_threads=num_threads, progress=progress,
                                       partition_method=partition_method)
            arena, merge_graph = build(src, sampler.graph, sampler.batches, norm=norm, add_self_loops=add_self_loops,
                                       store_features=store_features, params=dict(sampler.params, loader="batch"),
                                       halo=halo, arena_path=arena_path)
            batches, params, self._partitions = sampler.batches, arena.params, sampler.partitions
        else:
            src, self._ppr_graph, merge_graph, params = restore(arena, data, "batch", norm=norm,
                                                                add_self_loops=add_self_loops,
                                                                batch_size=kwargs.get("batch_size", 1), halo=halo)
            if partitions is not None:
                self._partitions = _given_partitions(partitions, arena.num_nodes, int(params["num_partitions"]))
        self.num_partitions = int(params.get("num_partitions", num_partitions))
        self.batch_expand_ratio = float(params.get("batch_expand_ratio", batch_expand_ratio))
        super().__init__(arena, source=src, merge_graph=merge_graph, params=params, batches=batches,
                         batch_order=batch_order, return_edge_index_type=return_edge_index_type, device=device,
                         prefetch=prefetch, seed=seed, **kwargs)

    @property
    def partitions(self) -> np.ndarray:
        """``[N]`` int64 part id of every node (see the class doc)."""
        if self._partitions is None:
            if self.params.get("partitions_given"):
                raise ValueError("these batches were built on partitions given to the loader, which are not saved: "
                                 "pass them again with load(..., partitions=...)")
            if self._ppr_graph is None:
                raise ValueError("the partitions of saved batches are recomputed from the graph: pass data to load()")
            inputs = np.unique(self.batches.out)
            self._partitions = repartition(self._ppr_graph, self.params, inputs)
        return self._partitions

    @classmethod
    def load(cls, path: Union[str, os.PathLike], data: Any = None, batch_order: Optional[str] = "order", *,
             verify: bool = True, **kwargs: Any) -> "IBMBBatchLoader":
        """Serve batches saved with :meth:`save`: ``cls(data, batch_order,
        arena=Arena.load(path), **kwargs)`` (``partitions=`` may be given
        among ``kwargs``); see :meth:`IBMBNodeLoader.load`."""
        return cls(data, batch_order, arena=Arena.load(os.fspath(path), verify=verify), **kwargs)
