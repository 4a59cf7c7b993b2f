"""IBMB batches and the contiguous batch arena.

:func:`node_wise` and :func:`batch_wise` compute which nodes form each
mini-batch (influence-based mini-batching, Gasteiger et al. 2022);
:class:`Arena` materializes all batches (node ids, output mask, local
``edge_index`` with normalized ``edge_weight``, labels, optionally features)
into one contiguous block that numpy/torch view without copying, and saves or
memory-maps it as one file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union

import numpy as np

from ibmb import _jobs, partitioners
from ibmb._arrays import as_node_ids, as_node_ints, is_tensor, ptr, torch
from ibmb._native import call, engine
from ibmb.graph import CSRGraph, as_graph

__all__ = ["Batches", "node_wise", "batch_wise", "partition", "BatchOrder", "Arena", "ArenaBatch"]


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
    ``[N]`` boolean mask; ``None`` means every node.
    """
    g = as_graph(graph, num_nodes)
    out = as_node_ids(output_nodes, g.num_nodes, "output_nodes")
    job = call(engine.BatchNodeWise, g._handle(), ptr(out), out.shape[0], int(num_auxiliary_nodes),
               int(num_nodes_per_batch), float(alpha), float(eps), int(num_threads))
    return _collect(job, "IBMB node-wise", progress)


def batch_wise(graph: Union[CSRGraph, Any], output_nodes: Any, parts: Any, num_partitions: int,
               batch_expand_ratio: float = 1.0, alpha: float = 0.2, eps: float = 1e-5,
               num_nodes: Optional[int] = None, num_threads: int = 0, progress: Optional[bool] = None) -> Batches:
    """Batch-wise IBMB: one batch per part (parts without output nodes are
    skipped) holding the part's output nodes and the
    ``ceil(batch_expand_ratio * N / num_partitions)`` nodes of highest
    topic-sensitive PPR seeded by them. ``parts``: ``[N]`` part id per node."""
    g = as_graph(graph, num_nodes)
    out = as_node_ids(output_nodes, g.num_nodes, "output_nodes")
    p = np.asarray(parts.detach().cpu().numpy() if is_tensor(parts) else parts)
    if p.dtype == np.bool_ or not np.issubdtype(p.dtype, np.integer):
        raise TypeError(f"parts must hold integers, got dtype {p.dtype}")
    if p.shape != (g.num_nodes,):
        raise ValueError(f"parts must have shape [{g.num_nodes}], got {p.shape}")
    p = np.ascontiguousarray(p, dtype=np.int64)
    job = call(engine.BatchBatchWise, g._handle(), ptr(out), out.shape[0], ptr(p), int(num_partitions),
               float(batch_expand_ratio), float(alpha), float(eps), int(num_threads))
    return _collect(job, "IBMB batch-wise", progress)


_DTYPES = {np.dtype(np.float32): 1, np.dtype(np.float16): 2}
_NORMS = {0: "none", 1: "rw", 2: "sym"}


@dataclass
class ArenaBatch:
    """One batch of an :class:`Arena`: numpy views into the arena (no copies).

    Attributes:
        n_id: ``[n]`` int64 global node ids: the ``batch_size`` output nodes
            first (ascending), then the auxiliary nodes (ascending).
        output_mask: ``[n]`` bool, True for the batch's output nodes (the
            first ``batch_size`` entries).
        edge_index: ``[2, m]`` int64 local edges (ids index ``n_id``).
        edge_weight: ``[m]`` float32 weights normalized within the batch.
        y: ``[n]`` int64 labels, or None.
        x: ``[n, F]`` feature rows, or None (gather them with ``ibmb.gather``).
        batch_size: number of output nodes.
    """

    n_id: np.ndarray
    output_mask: np.ndarray
    edge_index: np.ndarray
    edge_weight: np.ndarray
    y: Optional[np.ndarray]
    x: Optional[np.ndarray]
    batch_size: int = 0


class _Memory:
    """Exposes the arena's memory to numpy; holds the owning Arena alive for
    as long as any view exists."""

    def __init__(self, owner: "Arena", addr: int, size: int) -> None:
        self._owner = owner
        self.__array_interface__ = {"shape": (size,), "typestr": "|u1", "data": (addr, False), "version": 3}


class Arena:
    """All batches in one contiguous block owned by the engine.

    Build with :meth:`build` or map a saved file with :meth:`load`. Batches are
    numpy views (``arena[b]``); wrap them with ``torch.from_numpy`` for zero-copy
    tensors. The memory is released when the Arena and every view of it are
    gone.
    """

    def __init__(self, handle: int) -> None:
        self._h = int(handle)
        info = np.zeros(22, dtype=np.int64)
        call(engine.ArenaInfo, self._h, ptr(info))
        (self.num_batches, self.num_nodes, self.nbytes, addr, self.row_bytes, dtype, norm,
         labels) = (int(v) for v in info[:8])
        off, size = info[8:15], info[15:22]
        self.norm = _NORMS.get(norm, "none")
        self.has_labels = bool(labels)
        self._dtype = {1: np.dtype(np.float32), 2: np.dtype(np.float16)}.get(dtype)
        if dtype == 3:
            import ml_dtypes

            self._dtype = np.dtype(ml_dtypes.bfloat16)
        self.address = addr  # where the block starts (e.g. to page-lock it for GPU copies)
        mem = np.asarray(_Memory(self, addr, self.nbytes))
        sec = [mem[o:o + s] for o, s in zip(off, size)]
        self._table = sec[0].view(np.int64).reshape(-1, 5)
        self._nid = sec[1].view(np.int64)
        self._mask = sec[2].view(np.bool_)
        self._edges = sec[3].view(np.int64)
        self._weight = sec[4].view(np.float32)
        self._y = sec[5].view(np.int64) if self.has_labels else None
        self._x = sec[6] if self.row_bytes else None

    @classmethod
    def build(cls, graph: Union[CSRGraph, Any], batches: Batches, x: Any = None, y: Any = None, norm: str = "sym",
              params: Optional[dict] = None, num_nodes: Optional[int] = None) -> "Arena":
        """Materialize ``batches`` of ``graph``: for each batch the subgraph
        induced by its nodes with edge weights normalized by ``norm``
        (``"sym"``, ``"rw"`` or ``"none"``) within the batch, the labels ``y``
        (``[N]`` integers) and, if ``x`` is given (``[N, *]`` float32/float16/
        bfloat16), the batch nodes' feature rows."""
        g = as_graph(graph, num_nodes)
        labels = None
        if y is not None:
            labels = as_node_ints(y, g.num_nodes, f"y must be [{g.num_nodes}] integer labels")
        xx, row_bytes, code = None, 0, 0
        if x is not None:
            if is_tensor(x):
                if x.dtype == torch.bfloat16:
                    import ml_dtypes

                    xx = x.detach().cpu().contiguous().view(torch.int16).numpy().view(ml_dtypes.bfloat16)
                else:
                    xx = x.detach().cpu().contiguous().numpy()
            else:
                xx = np.ascontiguousarray(x)
            code = 3 if xx.dtype.name == "bfloat16" else _DTYPES.get(xx.dtype, 0)
            if code == 0:
                raise TypeError(f"x must have dtype float32, float16 or bfloat16, got {xx.dtype}")
            if xx.ndim < 1 or xx.shape[0] != g.num_nodes:
                raise ValueError(f"x must have {g.num_nodes} rows, got shape {xx.shape}")
            row_bytes = int(np.prod(xx.shape[1:], dtype=np.int64)) * xx.itemsize
            if row_bytes == 0:
                xx, code = None, 0
        text = json.dumps(params or {})
        h = call(engine.ArenaBuild, g._handle(), ptr(batches.node_ptr), ptr(batches.nodes), ptr(batches.out_ptr),
                 ptr(batches.out), batches.num_batches, batches.nodes.shape[0], batches.out.shape[0], str(norm),
                 ptr(labels) if labels is not None else 0, ptr(xx) if xx is not None else 0, row_bytes, code, text)
        arena = cls(h)
        if xx is not None:
            arena._feature_shape = tuple(xx.shape[1:])
        return arena

    @classmethod
    def load(cls, path: str, verify: bool = True) -> "Arena":
        """Memory-map an arena saved with :meth:`save` (copy-on-write). Raises
        OSError for a missing, truncated, corrupt or wrong-version file."""
        return cls(call(engine.ArenaOpen, str(path), bool(verify)))

    def save(self, path: str) -> None:
        """Write the arena to ``path`` atomically (temporary file + rename)."""
        call(engine.ArenaSave, self._h, str(path))

    @property
    def params(self) -> dict:
        """The parameters stored with the arena."""
        return json.loads(call(engine.ArenaParams, self._h) or "{}")

    def __len__(self) -> int:
        return self.num_batches

    def __getitem__(self, b: int) -> ArenaBatch:
        if not -self.num_batches <= b < self.num_batches:
            raise IndexError(f"batch {b} out of range for {self.num_batches} batches")
        o, n, e, m, nout = (int(v) for v in self._table[b % self.num_batches])
        x = None
        if self._x is not None:
            x = self._x[o * self.row_bytes:(o + n) * self.row_bytes].view(self._dtype)
            x = x.reshape((n,) + getattr(self, "_feature_shape", (-1,)))
        return ArenaBatch(
            n_id=self._nid[o:o + n],
            output_mask=self._mask[o:o + n],
            edge_index=self._edges[2 * e:2 * e + 2 * m].reshape(2, m),
            edge_weight=self._weight[e:e + m],
            y=None if self._y is None else self._y[o:o + n],
            x=x,
            batch_size=nout,
        )

    def __iter__(self) -> Iterator[ArenaBatch]:
        return (self[b] for b in range(self.num_batches))

    def __del__(self) -> None:
        h, self._h = getattr(self, "_h", 0), 0
        if h:
            try:
                call(engine.Free, h)
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"Arena(num_batches={self.num_batches}, nbytes={self.nbytes:,}, norm={self.norm!r})"


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
    :mod:`ibmb.partitioners`)."""
    g = as_graph(graph, num_nodes)
    w = None
    if node_weight is not None:
        w = as_node_ints(node_weight, g.num_nodes, f"node_weight must be [{g.num_nodes}] integers")
    if not imbalance >= 0:
        raise ValueError(f"imbalance must be >= 0, got {imbalance}")
    if partitioners.check_method(method) != "ibmb":
        return partitioners.external_partition(method, g, num_partitions, w, imbalance, seed, num_threads)
    out = np.empty(g.num_nodes, dtype=np.int64)
    call(engine.Partition, g._handle(), int(num_partitions), 0 if w is None else ptr(w),
         float(imbalance) if imbalance > 0 else 1e-9, int(seed), int(num_threads), ptr(out))
    return out


class BatchOrder:
    """The order in which training visits the batches, per epoch.

    Batches whose output-label distributions differ should follow each other
    (IBMB); the distance between two batches is the symmetric KL divergence of
    their add-one-smoothed output-label distributions.

    Modes:
        ``"order"``: one fixed order maximizing the summed distance of
        consecutive batches (farthest-neighbour tour improved by 2-opt); PyG's
        port minimizes it instead.
        ``"sample"``: each epoch a random walk choosing the next batch with
        probability proportional to its distance from the current one.
        ``"rand"``: a uniformly random permutation each epoch.

    Args:
        batches: the :class:`Batches`.
        y: ``[N]`` integer labels (negative: unlabelled).
        mode: ``"order"``, ``"sample"`` or ``"rand"``.
        num_classes: number of classes (default: ``max(y) + 1``).
        seed: random seed.
    """

    def __init__(self, batches: Batches, y: Any, mode: str = "order", num_classes: Optional[int] = None,
                 seed: int = 0) -> None:
        if mode not in ("order", "sample", "rand"):
            raise ValueError(f"mode must be 'order', 'sample' or 'rand', got {mode!r}")
        yy = np.asarray(y.detach().cpu().numpy() if is_tensor(y) else y)
        if yy.dtype == np.bool_ or not np.issubdtype(yy.dtype, np.integer) or yy.ndim != 1:
            raise TypeError(f"y must be a 1-D integer array, got {yy.dtype} {yy.shape}")
        yy = np.ascontiguousarray(yy, dtype=np.int64)
        k = int(yy.max()) + 1 if num_classes is None and yy.size else int(num_classes or 1)
        self.mode, self.num_batches, self._seed, self._epoch = mode, batches.num_batches, int(seed), 0
        nb = self.num_batches
        self.distances = np.zeros((nb, nb), dtype=np.float64)
        call(engine.ScheduleDistances, ptr(batches.out_ptr), ptr(batches.out), nb, batches.out.shape[0], ptr(yy),
             yy.shape[0], k, ptr(self.distances))
        self._fixed: Optional[np.ndarray] = None
        self._sampler = 0
        if mode == "order":
            self._fixed = np.empty(nb, dtype=np.int64)
            call(engine.ScheduleOrder, ptr(self.distances), nb, self._seed, ptr(self._fixed))
        elif mode == "sample":
            self._sampler = call(engine.ScheduleSampler, ptr(self.distances), nb, self._seed)

    def epoch(self) -> np.ndarray:
        """The ``[num_batches]`` batch order of the next epoch."""
        self._epoch += 1
        if self._fixed is not None:
            return self._fixed.copy()
        if self._sampler:
            out = np.empty(self.num_batches, dtype=np.int64)
            call(engine.SamplerEpoch, self._sampler, ptr(out), self.num_batches)
            return out
        return np.random.default_rng([self._seed, self._epoch]).permutation(self.num_batches)

    def path_distance(self, order: np.ndarray) -> float:
        """Summed distance of consecutive batches in ``order``."""
        return float(self.distances[order[:-1], order[1:]].sum())

    def __del__(self) -> None:
        h, self._sampler = getattr(self, "_sampler", 0), 0
        if h:
            try:
                call(engine.Free, h)
            except Exception:
                pass
