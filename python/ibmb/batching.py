"""IBMB batches: which nodes form each mini-batch.

:func:`node_wise` and :func:`batch_wise` compute the batches of
influence-based mini-batching (Gasteiger et al. 2022) as :class:`Batches`;
:func:`partition` splits a graph for :func:`batch_wise`. The arena that
materializes batches is :mod:`ibmb.arena`, their visiting order
:mod:`ibmb.order` (both names are still importable from here).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np

from ibmb import _jobs, partitioners
from ibmb._arrays import as_int, as_int64, as_node_ids, as_node_ints, ptr
from ibmb._native import call, engine
from ibmb.graph import CSRGraph, as_graph

__all__ = ["Batches", "node_wise", "batch_wise", "partition"]


@dataclass
class Batches:
    """Batches in CSR form (int64 numpy arrays).

    Batch ``b`` has output nodes ``out[out_ptr[b]:out_ptr[b+1]]`` and nodes
    ``nodes[node_ptr[b]:node_ptr[b+1]]`` (both sorted; outputs are a subset of
    the nodes). Every distinct output node is an output of exactly one batch.
    """

    out_ptr: np.ndarray
    out: np.ndarray
    node_ptr: np.ndarray
    nodes: np.ndarray

    @property
    def num_batches(self) -> int:
        return len(self.out_ptr) - 1

    def __len__(self) -> int:
        return self.num_batches

    def batch(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """``(output_nodes, nodes)`` of batch ``b``."""
        return (self.out[self.out_ptr[b]:self.out_ptr[b + 1]], self.nodes[self.node_ptr[b]:self.node_ptr[b + 1]])


def _csr_part(ptr_: Any, ids: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    p = as_int64(ptr_, f"batches.{name}_ptr")
    v = as_int64(ids, f"batches.{name}")
    if p.size < 1 or p[0] != 0 or p[-1] != v.size or (p.size > 1 and np.any(p[1:] < p[:-1])):
        raise ValueError(f"batches.{name}_ptr must start at 0, never decrease and end at len(batches.{name}) = "
                         f"{v.size}")
    return p, v


def _batch_csr(batches: Batches) -> Batches:
    """``batches`` with C-contiguous int64 arrays (strided, negative-stride or
    other-width views are copied) and consistent pointers; raises TypeError
    or ValueError otherwise. The engine checks the ids themselves."""
    if not isinstance(batches, Batches):
        raise TypeError(f"batches must be ibmb.batching.Batches, got {type(batches).__name__}")
    out_ptr, out = _csr_part(batches.out_ptr, batches.out, "out")
    node_ptr, nodes = _csr_part(batches.node_ptr, batches.nodes, "node")
    if out_ptr.size != node_ptr.size:
        raise ValueError(f"batches.out_ptr and batches.node_ptr must have the same length (one entry more than "
                         f"there are batches), got {out_ptr.size} and {node_ptr.size}")
    return Batches(out_ptr, out, node_ptr, nodes)


def _collect(job: int, desc: str, progress: Optional[bool]) -> Batches:
    try:
        _jobs.wait(job, desc, progress)
        shape = np.zeros(3, dtype=np.int64)
        call(engine.BatchesShape, job, ptr(shape))
        nb, no, nn = (int(v) for v in shape)
        out_ptr, node_ptr = np.empty(nb + 1, np.int64), np.empty(nb + 1, np.int64)
        out, nodes = np.empty(no, np.int64), np.empty(nn, np.int64)
        call(engine.BatchesCopy, job, ptr(out_ptr), ptr(out), ptr(node_ptr), ptr(nodes))
        return Batches(out_ptr, out, node_ptr, nodes)
    finally:
        call(engine.Free, job)


def node_wise(graph: Union[CSRGraph, Any], output_nodes: Any, num_auxiliary_nodes: int, num_nodes_per_batch: int,
              alpha: float = 0.2, eps: float = 1e-5, num_nodes: Optional[int] = None, num_threads: int = 0,
              progress: Optional[bool] = None) -> Batches:
    """Node-wise IBMB: the top-``num_auxiliary_nodes`` PPR nodes of every output
    node are its auxiliary nodes; output nodes that share influential nodes are
    merged into batches of at most ``num_nodes_per_batch`` output nodes.

    ``output_nodes``: ``[M]`` ids (any order; duplicates count once) or a
    ``[N]`` boolean mask; ``None`` means every node. ``alpha * eps`` must be
    at least ``1e-10`` (the PPR work bound, see :func:`ibmb.ppr.node_ppr`).
    Ctrl-C stops the engine's work and raises ``KeyboardInterrupt`` (within a
    second).
    """
    num_auxiliary_nodes = as_int(num_auxiliary_nodes, "num_auxiliary_nodes", min=1)
    num_nodes_per_batch = as_int(num_nodes_per_batch, "num_nodes_per_batch", min=1)
    num_threads = as_int(num_threads, "num_threads", min=0)
    g = as_graph(graph, num_nodes)
    out = as_node_ids(output_nodes, g.num_nodes, "output_nodes")
    job = call(engine.BatchNodeWise, g._handle(), ptr(out, np.int64, None, "output_nodes"), out.shape[0],
               num_auxiliary_nodes, num_nodes_per_batch, float(alpha), float(eps), num_threads)
    return _collect(job, "IBMB node-wise", progress)


def batch_wise(graph: Union[CSRGraph, Any], output_nodes: Any, parts: Any, num_partitions: int,
               batch_expand_ratio: float = 1.0, alpha: float = 0.2, eps: float = 1e-5,
               num_nodes: Optional[int] = None, num_threads: int = 0, progress: Optional[bool] = None) -> Batches:
    """Batch-wise IBMB: one batch per part (parts without output nodes are
    skipped) holding the part's output nodes and the
    ``ceil(batch_expand_ratio * N / num_partitions)`` nodes of highest
    topic-sensitive PPR seeded by them. ``parts``: ``[N]`` part id per node.
    Ctrl-C stops the engine's work and raises ``KeyboardInterrupt`` (within a
    second)."""
    num_partitions = as_int(num_partitions, "num_partitions", min=1)
    num_threads = as_int(num_threads, "num_threads", min=0)
    g = as_graph(graph, num_nodes)
    _check_num_partitions(num_partitions, g.num_nodes)
    out = as_node_ids(output_nodes, g.num_nodes, "output_nodes")
    p = as_int64(parts, "parts", ndim=None)
    if p.shape != (g.num_nodes,):
        raise ValueError(f"parts must have shape [{g.num_nodes}], got {p.shape}")
    if p.size and (p.min() < 0 or p.max() >= num_partitions):
        bad = p.min() if p.min() < 0 else p.max()
        raise IndexError(f"parts holds part id {bad}, outside [0, num_partitions={num_partitions})")
    job = call(engine.BatchBatchWise, g._handle(), ptr(out, np.int64, None, "output_nodes"), out.shape[0],
               ptr(p, np.int64, g.num_nodes, "parts"), num_partitions, float(batch_expand_ratio), float(alpha),
               float(eps), num_threads)
    return _collect(job, "IBMB batch-wise", progress)


def _check_num_partitions(k: int, n: int) -> None:
    """A graph of ``n`` nodes splits into at most ``n`` non-empty parts;
    more parts would only make the engine allocate per empty part."""
    if k > max(1, n):
        raise ValueError(f"num_partitions={k} exceeds the graph's {n} nodes")


def partition(graph: Union[CSRGraph, Any], num_partitions: int, node_weight: Any = None, imbalance: float = 0.03,
              seed: int = 0, num_nodes: Optional[int] = None, num_threads: int = 0, method: str = "ibmb") -> np.ndarray:
    """Partition the graph (read as undirected) into ``num_partitions`` parts
    of balanced node weight with few cut edges. Returns the ``[N]`` int64
    part of every node.

    ``node_weight``: optional ``[N]`` non-negative integer weights (e.g. a
    higher weight on output nodes); ``imbalance``: allowed excess of the
    heaviest part over the average. ``method``: ``"ibmb"`` (default: the
    engine's deep multilevel partitioner, no extra package, deterministic for
    a given seed whatever ``num_threads``), ``"kaminpar"`` or ``"metis"``
    (their PyPI packages ``kaminpar`` / ``pymetis``; see
    :mod:`ibmb.partitioners`). With ``"ibmb"``, Ctrl-C stops the engine's
    work and raises ``KeyboardInterrupt`` (within a second)."""
    num_partitions = as_int(num_partitions, "num_partitions", min=1)
    seed = as_int(seed, "seed", min=0, max=2**63 - 1)
    num_threads = as_int(num_threads, "num_threads", min=0)
    method = partitioners.check_method(method)
    g = as_graph(graph, num_nodes)
    _check_num_partitions(num_partitions, g.num_nodes)
    w = None
    if node_weight is not None:
        w = as_node_ints(node_weight, g.num_nodes, f"node_weight must be [{g.num_nodes}] integers")
    if not imbalance >= 0:
        raise ValueError(f"imbalance must be >= 0, got {imbalance}")
    if method != "ibmb":
        return partitioners.external_partition(method, g, num_partitions, w, imbalance, seed, num_threads)
    wp = 0 if w is None else ptr(w, np.int64, g.num_nodes, "node_weight")

    def start() -> int:
        return call(engine.Partition, g._handle(), num_partitions, wp, float(imbalance) if imbalance > 0 else 1e-9,
                    seed, num_threads)

    def collect(job: int) -> np.ndarray:
        out = np.empty(g.num_nodes, dtype=np.int64)
        call(engine.PartitionCopy, job, ptr(out, np.int64, g.num_nodes, "out", writable=True))
        return out

    # A job, so that Ctrl-C stops the partitioner (KeyboardInterrupt).
    return _jobs.run(start, collect, "partition", progress=False)


def __getattr__(name: str) -> Any:
    """``ibmb.batching.Arena``, ``ArenaBatch`` and ``BatchOrder``: the names
    this module had before they moved to :mod:`ibmb.arena` and
    :mod:`ibmb.order` (imported on first use: those modules import this one)."""
    if name in ("Arena", "ArenaBatch"):
        from ibmb import arena

        return getattr(arena, name)
    if name == "BatchOrder":
        from ibmb.order import BatchOrder

        return BatchOrder
    raise AttributeError(f"module 'ibmb.batching' has no attribute {name!r}")
