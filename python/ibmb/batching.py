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
import os
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union

import numpy as np

from ibmb import _jobs, partitioners
from ibmb._arrays import as_int, as_int64, as_node_ids, as_node_ints, check_memory, is_tensor, ptr, torch
from ibmb._native import Handle, call, engine
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


# Codes and field names as the engine defines them (bindings' ArenaDTypes, Norms, ArenaInfoFields): the
# code of a name is its position.
_DTYPE_NAMES: tuple[str, ...] = tuple(engine.ArenaDTypes().split(","))  # numpy/torch names; 0 is "none"
_NORMS: dict[int, str] = dict(enumerate(engine.Norms().split(",")))
_ARENA_FIELDS: tuple[str, ...] = tuple(engine.ArenaInfoFields().split(","))


def _dtype_code(dt: np.dtype) -> int:
    """The engine's code of feature dtype ``dt`` (0: not one it stores)."""
    return _DTYPE_NAMES.index(dt.name) if dt.name in _DTYPE_NAMES[1:] else 0


def _code_dtype(code: int) -> Optional[np.dtype]:
    """The numpy dtype of engine dtype ``code`` (None: no features)."""
    if not 0 < code < len(_DTYPE_NAMES):
        return None
    if _DTYPE_NAMES[code] == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(_DTYPE_NAMES[code])


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
    """Exposes engine memory to numpy. Every array viewing it keeps this
    object alive, and this object keeps the memory's :class:`Handle` alive
    (never the Arena), so the memory is freed exactly when the Arena and its
    last view are gone, and no reference cycle runs through numpy arrays
    (which the cycle collector cannot see into)."""

    def __init__(self, owner: Handle, addr: int, size: int) -> None:
        self._owner = owner
        self.__array_interface__ = {"shape": (size,), "typestr": "|u1", "data": (addr, False), "version": 3}


class Arena:
    """All batches in one contiguous block owned by the engine.

    Build with :meth:`build` or map a saved file with :meth:`load`. Batches are
    numpy views (``arena[b]``); wrap them with ``torch.from_numpy`` for zero-copy
    tensors. The memory is released when the Arena and every view of it are
    gone (views keep it alive on their own).
    """

    def __init__(self, handle: int) -> None:
        self._owner = Handle(handle)  # the only owner of the engine memory; held by every view
        values = np.zeros(len(_ARENA_FIELDS), dtype=np.int64)
        call(engine.ArenaInfo, self._owner.value, ptr(values, np.int64, len(values), "info", writable=True), len(values))
        info = dict(zip(_ARENA_FIELDS, (int(v) for v in values)))
        self.num_batches, self.num_nodes, self.nbytes = info["num_batches"], info["num_nodes"], info["nbytes"]
        self.row_bytes = info["row_bytes"]
        self.norm = _NORMS.get(info["norm"], "none")
        self.has_labels = bool(info["has_labels"])
        self._dtype = _code_dtype(info["dtype"])
        self.address = info["address"]  # where the block starts (e.g. to page-lock it for GPU copies)
        mem = np.asarray(_Memory(self._owner, self.address, self.nbytes))

        def sec(name: str) -> np.ndarray:
            off = info[name + "_offset"]
            return mem[off:off + info[name + "_size"]]

        self._table = sec("table").view(np.int64).reshape(-1, info["table_cols"])
        self._nid = sec("nid").view(np.int64)
        self._mask = sec("outmask").view(np.bool_)
        self._edges = sec("edges").view(np.int64)
        self._weight = sec("weight").view(np.float32)
        self._y = sec("y").view(np.int64) if self.has_labels else None
        self._x = sec("x") if self.row_bytes else None

    @property
    def _h(self) -> int:
        """The engine handle (valid while this Arena or a view exists)."""
        return self._owner.value

    @classmethod
    def build(cls, graph: Union[CSRGraph, Any], batches: Batches, x: Any = None, y: Any = None, norm: str = "sym",
              params: Optional[dict] = None, num_nodes: Optional[int] = None) -> "Arena":
        """Materialize ``batches`` of ``graph``: for each batch the subgraph
        induced by its nodes with edge weights normalized by ``norm``
        (``"sym"``, ``"rw"`` or ``"none"``) within the batch, the labels ``y``
        (``[N]`` integers) and, if ``x`` is given (``[N, *]`` float32/float16/
        bfloat16), the batch nodes' feature rows."""
        g = as_graph(graph, num_nodes)
        bp = _batch_csr(batches)
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
            code = _dtype_code(xx.dtype)
            if code == 0:
                raise TypeError(f"x must have dtype float32, float16 or bfloat16, got {xx.dtype}")
            if xx.ndim < 1 or xx.shape[0] != g.num_nodes:
                raise ValueError(f"x must have {g.num_nodes} rows, got shape {xx.shape}")
            row_bytes = int(np.prod(xx.shape[1:], dtype=np.int64)) * xx.itemsize
            if row_bytes == 0:
                xx, code = None, 0
        text = json.dumps(params or {})
        nb = bp.num_batches

        def start() -> int:
            # Go copies the batches and labels before this returns; it reads
            # xx while the job runs, and this frame keeps xx alive until the
            # job has stopped (also on Ctrl-C: _jobs waits for it).
            return call(engine.ArenaBuildJob, g._handle(), ptr(bp.node_ptr, np.int64, nb + 1, "batches.node_ptr"),
                        ptr(bp.nodes, np.int64, None, "batches.nodes"),
                        ptr(bp.out_ptr, np.int64, nb + 1, "batches.out_ptr"),
                        ptr(bp.out, np.int64, None, "batches.out"), nb, bp.nodes.shape[0], bp.out.shape[0],
                        str(norm), ptr(labels, np.int64, g.num_nodes, "y") if labels is not None else 0,
                        ptr(xx, xx.dtype, None, "x") if xx is not None else 0, row_bytes, code, text)

        h = _jobs.run(start, lambda job: call(engine.ArenaFromJob, job), "IBMB arena", progress=False)
        arena = cls(h)  # owns h from its first line on, so a failure below frees it
        if xx is not None:
            arena._feature_shape = tuple(xx.shape[1:])
        return arena

    @classmethod
    def load(cls, path: Union[str, bytes, os.PathLike], verify: bool = True) -> "Arena":
        """Memory-map an arena saved with :meth:`save` (copy-on-write: writes
        through the views never reach the file).

        Verified or not, the file must be a regular file whose size equals
        the size its header declares, and every offset, count and node id the
        batches index with is checked, so a corrupt file gives an exception,
        never a crash; ``verify=True`` also checks the payload checksum
        (reads the whole file), which catches damaged labels, weights and
        features too.

        Raises:
            FileNotFoundError, PermissionError, IsADirectoryError: as ``open``
                would (``errno`` and ``filename`` set).
            OSError: a FIFO, device or socket (refused without blocking), or
                a truncated, corrupt or wrong-version file.

        Warning:
            The file is mapped, not read: it must not be truncated or
            rewritten in place while the arena (or any batch view of it) is
            alive. Pages that no longer exist in the file raise ``SIGBUS``
            when touched, which ends the process. :meth:`save` replaces files
            by renaming, which is safe for arenas already loaded.
        """
        name = os.fspath(path)
        return cls(call(engine.ArenaOpen, os.fsdecode(name), bool(verify), filename=name))

    def save(self, path: Union[str, bytes, os.PathLike]) -> None:
        """Write the arena to ``path`` atomically: a temporary file in the
        same folder (named ``.<name>.tmp-<pid>-<random>``), synced, then
        renamed over ``path``. A new file gets mode ``0o666`` minus the umask;
        a replaced file keeps its mode; a symbolic link is followed (the
        file it points to is replaced). Temporary files left by writers that
        were killed are removed by the next save of the same path.

        Ctrl-C stops the write within about a second (between 64 MiB chunks),
        removes the temporary file, leaves ``path`` as it was and raises
        ``KeyboardInterrupt``. Errors as for :meth:`load` (a directory gives
        IsADirectoryError)."""
        name = os.fspath(path)
        job = call(engine.ArenaSaveJob, self._h, os.fsdecode(name), filename=name)
        try:
            _jobs.wait(job, "IBMB save", False)
        except OSError as e:
            if e.errno is not None and e.filename is None:
                raise OSError(e.errno, e.strerror, name) from None
            raise
        finally:
            call(engine.Free, job)

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
        seed = as_int(seed, "seed", min=0, max=2**63 - 1)
        bp = _batch_csr(batches)
        yy = as_int64(y, "y", ndim=None)
        if yy.ndim != 1:
            raise TypeError(f"y must be a 1-D integer array, got shape {yy.shape}")
        top = int(yy.max()) if yy.size else -1
        if num_classes is None:
            k = max(top + 1, 1)
        else:
            k = as_int(num_classes, "num_classes", min=1)
            if top >= k:
                raise ValueError(f"y holds label {top} but num_classes is {k}: labels must lie in [0, num_classes)")
        nb = bp.num_batches
        if bp.out.size and (bp.out.min() < 0 or bp.out.max() >= yy.size):
            bad = bp.out.min() if bp.out.min() < 0 else bp.out.max()
            raise IndexError(f"batches hold output node {bad}, out of range for {yy.size} labels")
        # The engine counts labels per batch and class (nb x k, three float64
        # tables) and the distances are nb x nb (here, in the engine, and in
        # the sampler's copy): refuse before allocating what cannot fit.
        check_memory(8 * (3 * nb * k + 4 * nb * nb),
                     f"the batch order of {nb} batches over {k} classes"
                     + ("" if num_classes is not None else f" (from the largest label in y, {top})"))
        self.mode, self.num_batches, self._seed, self._epoch = mode, nb, seed, 0
        self.distances = np.zeros((nb, nb), dtype=np.float64)
        call(engine.ScheduleDistances, ptr(bp.out_ptr, np.int64, nb + 1, "batches.out_ptr"),
             ptr(bp.out, np.int64, None, "batches.out"), nb, bp.out.shape[0], ptr(yy, np.int64, None, "y"),
             yy.shape[0], k, ptr(self.distances, np.float64, nb * nb, "distances", writable=True))
        self._fixed: Optional[np.ndarray] = None
        self._sampler: Optional[Handle] = None
        if mode == "order":
            self._fixed = np.empty(nb, dtype=np.int64)
            call(engine.ScheduleOrder, ptr(self.distances, np.float64, nb * nb, "distances"), nb, self._seed,
                 ptr(self._fixed, np.int64, nb, "order", writable=True))
        elif mode == "sample":
            self._sampler = Handle(call(engine.ScheduleSampler, ptr(self.distances, np.float64, nb * nb,
                                                                    "distances"), nb, self._seed))

    def epoch(self) -> np.ndarray:
        """The ``[num_batches]`` batch order of the next epoch."""
        self._epoch += 1
        if self._fixed is not None:
            return self._fixed.copy()
        if self._sampler is not None:
            out = np.empty(self.num_batches, dtype=np.int64)
            call(engine.SamplerEpoch, self._sampler.value, ptr(out, np.int64, self.num_batches, "order", True),
                 self.num_batches)
            return out
        return np.random.default_rng([self._seed, self._epoch]).permutation(self.num_batches)

    def path_distance(self, order: np.ndarray) -> float:
        """Summed distance of consecutive batches in ``order``."""
        return float(self.distances[order[:-1], order[1:]].sum())
