"""``IBMBNodeLoader``: node-wise IBMB batches served as PyG ``Data``."""
from __future__ import annotations

import os
from typing import Any, Optional, Union

from ibmb.arena import Arena
from ibmb.loader._build import build, restore
from ibmb.loader._source import Source
from ibmb.loader.base import IBMBLoader, check_order
from ibmb.sampler import PYG_ALPHA, PYG_EPS, IBMBNodeSampler

__all__ = ["IBMBNodeLoader"]


class IBMBNodeLoader(IBMBLoader):
    r"""Node-wise influence-based mini-batching (Gasteiger et al., LoG 2022),
    with the arguments of PyG's ``IBMBNodeLoader``
    (``torch_geometric.loader.ibmb_loader``); a ``torch.utils.data.DataLoader``.

    Every input (output) node gets its ``num_auxiliary_nodes`` nodes of
    highest personalized PageRank; output nodes that share influence (PPR
    affinity over the whole eps-truncated PPR matrix, as PyG and the
    reference code) are merged into batches of at most
    ``num_nodes_per_batch`` outputs (:class:`~ibmb.sampler.IBMBNodeSampler`).
    Batches are computed once (native engine, all cores) into one contiguous
    arena (``loader.dataset``); ``batch_size`` of them are merged per step.

    Each batch is a ``Data`` with ``x`` ``[n, F]``, ``y`` ``[n]`` (when
    ``data.y`` exists), ``edge_index`` ``[2, m]`` int64 local edges (a
    ``torch_sparse.SparseTensor`` with ``return_edge_index_type="adj"``),
    ``edge_weight`` ``[m]`` float32 (``norm``), ``output_node_mask`` ``[n]``,
    ``n_id`` ``[n]`` global ids and ``batch_size``: the outputs come first,
    so ``out[:batch.batch_size]`` are a model's outputs (PyG's convention).

    Args:
        data: a ``torch_geometric.data.Data`` with ``x`` ``[N, F]``,
            ``edge_index`` ``[2, E]`` and (for training) ``y`` ``[N]``. May
            be None with ``arena`` when the arena stores the features.
        batch_order: ``"order"`` (a fixed order keeping consecutive batches'
            label distributions far apart), ``"sample"`` (each epoch a random
            walk preferring distant batches), ``"rand"`` (a random
            permutation each epoch) or ``None`` (the arena's order, for
            inference). (default: ``"order"``)
        input_nodes: output node ids ``[M]`` or a ``[N]`` bool mask
            (default: every node).
        num_auxiliary_nodes: top-k PPR nodes per output node. (default: 16)
        num_nodes_per_batch: at most this many output nodes per batch.
            (default: 256)
        alpha: PPR teleport probability. (default: 0.2, PyG's; ibmb's
            training jobs use 0.25, see :mod:`ibmb.sampler`)
        eps: PPR push threshold. (default: 1e-5, PyG's; jobs use 2e-4)
        return_edge_index_type: ``"edge_index"`` or ``"adj"`` (a
            ``torch_sparse.SparseTensor`` holding the edge values).
        norm: edge values. ``"graph-rw"``: PyG's, the full graph's ``D^-1 A``
            restricted to the batch (row sums <= 1); ``"graph-sym"``: the full
            graph's ``D^-1/2 A D^-1/2`` restricted; ``"sym"``, ``"rw"``,
            ``"none"``: normalized within the batch (ibmb's training jobs use
            ``"sym"`` with self-loops for GCN with ``normalize=False``).
            (default: ``"graph-rw"``, or the saved one with ``arena``)
        add_self_loops: give every node a self-loop before the values are
            computed. (default: False, like PyG)
        store_features: copy feature rows into the arena (fastest) or gather
            them per batch. ``data.x`` may be a memory-mapped file larger
            than memory (:func:`ibmb.data.map_features`): only batch rows
            are read. (default: store when they take at most half the
            available memory)
        device: where batches go (a prefetch thread copies them to a CUDA
            device ahead of use). (default: CPU)
        prefetch: batches prepared ahead. (default: 2)
        seed: seed of the batch order. (default: 0)
        num_threads: engine threads (0: all cores). (default: 0)
        progress: tqdm progress bars (None: when stderr is a terminal).
        halo: add each batch's one-hop halo for history-based training
            (:mod:`ibmb.nn`): ``True`` (GCN's convention: ``"sym"`` weights
            with self-loops), ``"sym"``, ``"rw"`` or ``"none"`` (self-loops:
            ``add_self_loops``, default True for ``"sym"``), or an
            :class:`ibmb.nn.Halo` (its convention, its graph reused). Each
            batch's ``n_id`` is then ``[outputs, auxiliary nodes, halo]``,
            ``num_exact`` counts the outputs and auxiliary nodes, and
            ``edge_index``/``edge_weight`` are the in-edges of those exact
            nodes with the full graph's weights (none into the halo);
            ``norm`` must be left out. Merged batches (``batch_size > 1``)
            are the halo batch of the union of their exact nodes.
            (default: None, no halo)
        arena: serve these saved batches (:meth:`load`) instead of
            computing them; the sampling arguments are then the arena's.
        arena_path: build the arena straight into this file instead of
            memory (:meth:`ibmb.arena.Arena.build` ``path``; for batches
            whose stored features exceed memory); :meth:`load` serves it
            later. (default: None, in memory)
        **kwargs: ``batch_size`` (precomputed batches merged per step,
            default 1), ``shuffle`` (same as ``batch_order="rand"``),
            ``drop_last``; ``num_workers`` is accepted but replaced by the
            prefetch thread; other DataLoader arguments are accepted and
            ignored.

    Example:
        >>> loader = ibmb.IBMBNodeLoader(data, "order", data.train_mask, 16, 256, batch_size=1)
        >>> for batch in loader:
        ...     out = model(batch.x, batch.edge_index, batch.edge_weight)[:batch.batch_size]
        ...     loss = F.cross_entropy(out, batch.y[:batch.batch_size])
    """

    def __init__(self, data: Any, batch_order: Optional[str] = "order", input_nodes: Any = None,
                 num_auxiliary_nodes: int = 16, num_nodes_per_batch: int = 256, alpha: float = PYG_ALPHA,
                 eps: float = PYG_EPS, return_edge_index_type: str = "edge_index", *, norm: Optional[str] = None,
                 add_self_loops: Optional[bool] = None, store_features: Optional[bool] = None, device: Any = None,
                 prefetch: int = 2, seed: int = 0, num_threads: int = 0, progress: Optional[bool] = None,
                 arena: Optional[Arena] = None, halo: Any = None, arena_path: Any = None, **kwargs: Any) -> None:
        check_order(batch_order)
        batches = None
        if arena is None:
            src = Source(data, input_nodes, need_y=batch_order in ("order", "sample"))
            sampler = IBMBNodeSampler(src.graph(False), src.inputs, num_auxiliary_nodes, num_nodes_per_batch,
                                      alpha, eps, num_threads=num_threads, progress=progress)
            arena, merge_graph = build(src, sampler.graph, sampler.batches, norm=norm, add_self_loops=add_self_loops,
                                       store_features=store_features, params=dict(sampler.params, loader="node"),
                                       halo=halo, arena_path=arena_path)
            batches, params = sampler.batches, arena.params
        else:
            src, _, merge_graph, params = restore(arena, data, "node", norm=norm, add_self_loops=add_self_loops,
                                                  batch_size=kwargs.get("batch_size", 1), halo=halo)
        self.num_auxiliary_nodes = int(params.get("num_auxiliary_nodes", 0))
        self.num_nodes_per_batch = int(params.get("num_nodes_per_batch", 0))
        super().__init__(arena, source=src, merge_graph=merge_graph, params=params, batches=batches,
                         batch_order=batch_order, return_edge_index_type=return_edge_index_type, device=device,
                         prefetch=prefetch, seed=seed, **kwargs)

    @classmethod
    def load(cls, path: Union[str, os.PathLike], data: Any = None, batch_order: Optional[str] = "order", *,
             verify: bool = True, **kwargs: Any) -> "IBMBNodeLoader":
        """Serve batches saved with :meth:`save` (memory-mapped, no
        preprocessing): ``cls(data, batch_order, arena=Arena.load(path),
        **kwargs)``.

        ``data`` is needed when the file stores no features (they are then
        gathered from ``data.x``) or when ``batch_size > 1`` (merging needs
        the full graph). Raises OSError for a missing, truncated, corrupt or
        wrong-version file, ValueError for batches saved by another loader.
        """
        return cls(data, batch_order, arena=Arena.load(os.fspath(path), verify=verify), **kwargs)
