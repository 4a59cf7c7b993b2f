"""IBMB samplers: which batches exist (PyG's sampler side of a loader).

A sampler turns a graph, its output (input/seed) nodes and the method's
arguments into :class:`~ibmb.batching.Batches` (output and auxiliary nodes of
every batch) plus the parameters that made them; the loaders in
:mod:`ibmb.loader` serve those batches. Samplers need neither torch nor PyG.

Defaults: ``alpha=0.2`` and ``eps=1e-5`` are PyG's (``IBMBNodeLoader``,
``get_ppr``), so that a drop-in gives PyG's batches. ibmb's training jobs
(``python -m ibmb train``, :mod:`ibmb.train`) use ``alpha=0.25`` and
``eps=2e-4`` (:data:`JOB_ALPHA`, :data:`JOB_EPS`) for speed: the push does
at most ``1/(alpha*eps)`` neighbour updates per output node, a bound 25x
smaller than with PyG's defaults, and the accuracies in
``benchmarks/RESULTS.md`` were measured with them. They are kept apart rather
than unified so that a PyG script gets PyG's batches and the recorded
figures stay reproducible.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Union

import numpy as np

from ibmb._arrays import as_int, as_int64, as_node_ids
from ibmb.batching import Batches, batch_wise, node_wise, partition
from ibmb.graph import CSRGraph

__all__ = ["IBMBNodeSampler", "IBMBBatchSampler", "PYG_ALPHA", "PYG_EPS", "JOB_ALPHA", "JOB_EPS", "graph_of"]

PYG_ALPHA: float = 0.2
"""PPR teleport probability PyG's IBMB loaders default to (the loaders' default)."""
PYG_EPS: float = 1e-5
"""PPR push threshold PyG's ``IBMBNodeLoader`` defaults to (the loaders' default)."""
JOB_ALPHA: float = 0.25
"""PPR teleport probability of ibmb's training jobs."""
JOB_EPS: float = 2e-4
"""PPR push threshold of ibmb's training jobs."""


def graph_of(data: Any, num_nodes: Optional[int] = None) -> CSRGraph:
    """The PPR graph of ``data``: a :class:`CSRGraph` as it is, else the CSR
    of ``data.edge_index`` (a PyG ``Data``) or of an ``[2, E]`` edge_index,
    with repeated edges dropped and no self-loops added."""
    if isinstance(data, CSRGraph):
        return data
    edge_index = getattr(data, "edge_index", data)
    if num_nodes is None and getattr(data, "num_nodes", None) is not None:
        num_nodes = int(data.num_nodes)
    return CSRGraph.from_edge_index(edge_index, num_nodes, drop_duplicates=True)


class _Sampler:
    """What every sampler holds: ``graph`` (the PPR graph), ``inputs``
    (``[M]`` distinct sorted output node ids), ``batches`` and ``params``
    (JSON-able arguments, stored with saved batches)."""

    graph: CSRGraph
    inputs: np.ndarray
    batches: Batches
    params: dict

    @property
    def num_batches(self) -> int:
        return self.batches.num_batches

    def __len__(self) -> int:
        return self.batches.num_batches

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k != "sampler")
        return f"{type(self).__name__}({args}, num_batches={self.num_batches})"


class IBMBNodeSampler(_Sampler):
    """Node-wise IBMB batches (Gasteiger et al., LoG 2022).

    Every output node's ``num_auxiliary_nodes`` nodes of highest personalized
    PageRank are its auxiliary nodes. Output nodes are merged greedily by
    their pairwise PPR affinity, taken from the whole eps-truncated PPR
    matrix restricted to the outputs (the rule of the reference code and of
    PyG), into batches of at most ``num_nodes_per_batch`` outputs; the two
    smallest batches are then merged while they fit.

    Args:
        data: a PyG ``Data`` (its ``edge_index``), an ``[2, E]`` edge_index
            or a :class:`~ibmb.graph.CSRGraph`.
        input_nodes: output node ids ``[M]`` or a ``[N]`` bool mask
            (default: every node).
        num_auxiliary_nodes: top-k PPR nodes per output node. (default: 16)
        num_nodes_per_batch: at most this many outputs per batch. (default: 256)
        alpha: PPR teleport probability. (default: 0.2, PyG's)
        eps: PPR push threshold. (default: 1e-5, PyG's)
        num_threads: engine threads (0: all cores). (default: 0)
        progress: tqdm progress bars (None: when stderr is a terminal).
    """

    def __init__(self, data: Any, input_nodes: Any = None, num_auxiliary_nodes: int = 16,
                 num_nodes_per_batch: int = 256, alpha: float = PYG_ALPHA, eps: float = PYG_EPS, *,
                 num_threads: int = 0, progress: Optional[bool] = None) -> None:
        self.graph = graph_of(data)
        self.inputs = as_node_ids(input_nodes, self.graph.num_nodes, "input_nodes")
        self.batches = node_wise(self.graph, self.inputs, num_auxiliary_nodes, num_nodes_per_batch, alpha=alpha,
                                 eps=eps, num_threads=num_threads, progress=progress)
        self.params = {"sampler": "node", "num_auxiliary_nodes": int(num_auxiliary_nodes),
                       "num_nodes_per_batch": int(num_nodes_per_batch), "alpha": float(alpha), "eps": float(eps)}


def _given_partitions(parts: Any, n: int, k: int) -> np.ndarray:
    """Checks a user's ``[n]`` part ids in ``[0, k)``; returns them as int64."""
    p = as_int64(parts, "partitions", ndim=None)
    if p.shape != (n,):
        raise ValueError(f"partitions must have shape [{n}] (one part per node), got {list(p.shape)}")
    if n and (p.min() < 0 or p.max() >= k):
        raise ValueError(f"partitions must lie in [0, num_partitions={k}), got values in [{p.min()}, {p.max()}]")
    return p


def input_node_weight(num_nodes: int, inputs: np.ndarray, weight: Optional[float]) -> Optional[np.ndarray]:
    """``[N]`` partitioning weights: ``round(weight)`` (at least 1) on the
    ``inputs``, 1 elsewhere; None when ``weight`` is None or 1."""
    if weight is None or weight == 1:
        return None
    w = float(weight)
    if not (math.isfinite(w) and w > 0):
        raise ValueError(f"metis_input_node_weight must be a positive number, got {weight}")
    out = np.ones(num_nodes, np.int64)
    out[inputs] = max(1, int(round(w)))
    return out


class IBMBBatchSampler(_Sampler):
    """Batch-wise IBMB batches (Gasteiger et al., LoG 2022).

    The graph is split into ``num_partitions`` parts (ibmb's multilevel
    partitioner; no METIS needed); every part with output nodes becomes a
    batch of those outputs plus the ``ceil(batch_expand_ratio * N /
    num_partitions)`` nodes of highest topic-sensitive PageRank seeded by
    them.

    Args:
        data: as :class:`IBMBNodeSampler`.
        num_partitions: number of parts. (default: 8)
        input_nodes: output node ids or a bool mask (default: every node).
        batch_expand_ratio: batch size relative to the part size. (default: 1.0)
        metis_input_node_weight: partitioning weight of output nodes (others
            weigh 1), rounded to an integer >= 1. (default: None)
        alpha: PPR teleport probability. (default: 0.2, PyG's)
        eps: PPR push threshold; PyG runs a fixed number of power iterations
            instead. (default: 1e-5)
        partitions: a precomputed ``[N]`` part id per node in
            ``[0, num_partitions)`` (e.g. another sampler's or loader's
            ``.partitions``), so that train and test batches of one graph
            share one partition. (default: None: partition here)
        seed: partitioner seed. (default: 0)
        partition_method: the partitioner: ``"ibmb"`` (the engine's),
            ``"kaminpar"`` or ``"metis"`` (their PyPI packages; see
            :func:`ibmb.batching.partition`). (default: ``"ibmb"``)
        num_threads, progress: as :class:`IBMBNodeSampler`.

    Attributes:
        partitions: ``[N]`` int64 part id of every node.
    """

    def __init__(self, data: Any, num_partitions: int = 8, input_nodes: Any = None, batch_expand_ratio: float = 1.0,
                 metis_input_node_weight: Optional[float] = None, alpha: float = PYG_ALPHA, eps: float = PYG_EPS, *,
                 partitions: Any = None, seed: int = 0, num_threads: int = 0,
                 progress: Optional[bool] = None, partition_method: str = "ibmb") -> None:
        num_partitions = as_int(num_partitions, "num_partitions", min=1)
        if not (batch_expand_ratio is not None and math.isfinite(batch_expand_ratio) and batch_expand_ratio > 0):
            raise ValueError(f"batch_expand_ratio must be a positive number, got {batch_expand_ratio!r}")
        self.graph = graph_of(data)
        n = self.graph.num_nodes
        self.inputs = as_node_ids(input_nodes, n, "input_nodes")
        weight = input_node_weight(n, self.inputs, metis_input_node_weight)
        if partitions is not None:
            self.partitions = _given_partitions(partitions, n, num_partitions)
        else:
            self.partitions = partition(self.graph, num_partitions, node_weight=weight, seed=seed,
                                        num_threads=num_threads, method=partition_method)
        self.batches = batch_wise(self.graph, self.inputs, self.partitions, num_partitions,
                                  batch_expand_ratio=batch_expand_ratio, alpha=alpha, eps=eps,
                                  num_threads=num_threads, progress=progress)
        self.params = {"sampler": "batch", "num_partitions": num_partitions,
                       "batch_expand_ratio": float(batch_expand_ratio), "alpha": float(alpha), "eps": float(eps),
                       "metis_input_node_weight": None if metis_input_node_weight is None
                       else float(metis_input_node_weight),
                       "seed": int(seed), "partitions_given": partitions is not None,
                       "partition_method": str(partition_method)}


def repartition(graph: Union[CSRGraph, Any], params: dict, inputs: np.ndarray, num_threads: int = 0) -> np.ndarray:
    """The partition an :class:`IBMBBatchSampler` with ``params`` computed
    for ``inputs`` on ``graph`` (the partitioner depends only on its inputs
    and seed, never on threads), e.g. to restore a loaded loader's
    ``.partitions``."""
    g = graph_of(graph)
    weight = input_node_weight(g.num_nodes, inputs, params.get("metis_input_node_weight"))
    return partition(g, int(params["num_partitions"]), node_weight=weight, seed=int(params.get("seed", 0)),
                     num_threads=num_threads, method=params.get("partition_method", "ibmb"))
