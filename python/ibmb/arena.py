"""The contiguous batch arena: all batches of an IBMB run in one block.

:class:`Arena` materializes :class:`~ibmb.batching.Batches` (node ids, output
mask, local ``edge_index`` with ``edge_weight``, labels, optionally features)
into one block owned by the engine, which numpy/torch view without copying;
it saves or memory-maps the block as one file. :class:`ArenaBatch` is one
batch's views.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union

import numpy as np

from ibmb import _jobs
from ibmb._arrays import as_node_ints, is_tensor, ptr, torch
from ibmb._native import Handle, call, engine
from ibmb.batching import Batches, _batch_csr, _collect
from ibmb.graph import CSRGraph, as_graph

__all__ = ["Arena", "ArenaBatch"]


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
        num_exact: in halo batches (``Arena.has_halo``), the number of exact
            nodes (outputs and auxiliary nodes, the first ``num_exact`` of
            ``n_id``); the rest of ``n_id`` is the halo (ascending) and
            ``edge_index`` holds the in-edges of the exact nodes with the
            full graph's weights. None without a halo (every node exact).
    """

    n_id: np.ndarray
    output_mask: np.ndarray
    edge_index: np.ndarray
    edge_weight: np.ndarray
    y: Optional[np.ndarray]
    x: Optional[np.ndarray]
    batch_size: int = 0
    num_exact: Optional[int] = None


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
        self.has_halo = bool(info.get("has_halo", 0))  # halo batches (ArenaBatch.num_exact)
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
    def build(cls, graph: Union[CSRGraph, Any], batches: Batches, x: Any = None, y: Any = None,
              norm: Optional[str] = None, params: Optional[dict] = None, num_nodes: Optional[int] = None,
              halo: Any = None, path: Union[str, bytes, os.PathLike, None] = None) -> "Arena":
        """Materialize ``batches`` of ``graph``: for each batch the subgraph
        induced by its nodes with edge weights normalized by ``norm``
        (``"sym"``, the default, ``"rw"`` or ``"none"``) within the batch, the
        labels ``y`` (``[N]`` integers) and, if ``x`` is given (``[N, *]``
        float32/float16/bfloat16), the batch nodes' feature rows.

        ``halo`` (an :class:`ibmb.nn.Halo` of the same graph) makes halo
        batches instead: each batch's nodes are its exact nodes, its one-hop
        halo follows them in ``n_id`` (with labels and feature rows), and its
        edges are the in-edges of the exact nodes weighted as in the halo
        (the full graph's normalization); ``norm`` must then be None or
        ``"none"``. See :attr:`ArenaBatch.num_exact`.

        Only the batch nodes' rows of ``x`` are read (by the engine, through
        its pointer), so ``x`` may be a memory map of a file larger than
        memory (:func:`ibmb.data.map_features`, ``np.memmap``,
        ``torch.from_file``); it must be C-contiguous, else it is copied.

        ``path`` builds the arena straight into that file instead of memory
        (for arenas with features larger than memory, where building in
        memory and then :meth:`save` would hold it all at once): the engine
        writes a temporary file next to ``path`` through a shared mapping as
        the batches are made (the pages go to the page cache and the disk,
        reclaimable, not to private memory), syncs it and renames it over
        ``path`` as :meth:`save` does; the returned arena maps the file as
        :meth:`load` does. Disk space is reserved first (a full disk is an
        OSError before anything is written). Errors as for :meth:`save`."""
        g = as_graph(graph, num_nodes)
        hg = None
        if halo is not None:
            hg = getattr(getattr(halo, "engine", halo), "graph", None)
            if not isinstance(hg, CSRGraph):
                raise TypeError(f"halo must be an ibmb.nn.Halo, got {type(halo).__name__}")
            if hg.num_nodes != g.num_nodes:
                raise ValueError(f"the halo's graph has {hg.num_nodes} nodes, the graph {g.num_nodes}")
            if norm not in (None, "none"):
                raise ValueError(f"halo batches carry the halo's full-graph weights: norm must be None or 'none', "
                                 f"got {norm!r}")
            norm = "none"
        norm = "sym" if norm is None else norm
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
            fn, graphs = (engine.ArenaBuildJob, (g._handle(),)) if hg is None else \
                (engine.ArenaBuildHaloJob, (g._handle(), hg._handle()))
            return call(fn, *graphs, ptr(bp.node_ptr, np.int64, nb + 1, "batches.node_ptr"),
                        ptr(bp.nodes, np.int64, None, "batches.nodes"),
                        ptr(bp.out_ptr, np.int64, nb + 1, "batches.out_ptr"),
                        ptr(bp.out, np.int64, None, "batches.out"), nb, bp.nodes.shape[0], bp.out.shape[0],
                        str(norm), ptr(labels, np.int64, g.num_nodes, "y") if labels is not None else 0,
                        ptr(xx, xx.dtype, None, "x") if xx is not None else 0, row_bytes, code, text,
                        file, filename=name)

        name = None if path is None else os.fspath(path)
        file = "" if name is None else os.fsdecode(name)
        if name is not None and not file:
            raise FileNotFoundError(2, "an empty path names no file", name)
        try:
            h = _jobs.run(start, lambda job: call(engine.ArenaFromJob, job), "IBMB arena", progress=False)
        except OSError as e:
            if name is not None and e.errno is not None and e.filename is None:
                raise OSError(e.errno, e.strerror, name) from None
            raise
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

    def batches(self) -> Batches:
        """The batch description the arena holds (outputs and sorted nodes of
        every batch), read by the engine: what :func:`ibmb.batching.node_wise`
        or :func:`~ibmb.batching.batch_wise` returned when it was built."""
        job = call(engine.ArenaBatches, self._h)
        return _collect(job, "IBMB arena batches", False)

    def sizes(self) -> np.ndarray:
        """``[num_batches, 3]`` int64 copy: nodes (halo included), edges and
        output nodes of every batch."""
        return self._table[:, [1, 3, 4]].copy()

    def node_labels(self) -> Optional[np.ndarray]:
        """``[num_nodes]`` int64 labels of the nodes the arena holds (``-1``
        for graph nodes in no batch), or None when it stores no labels."""
        if self._y is None:
            return None
        y = np.full(self.num_nodes, -1, np.int64)
        y[self._nid] = self._y
        return y

    @property
    def params(self) -> dict:
        """The parameters stored with the arena."""
        return json.loads(call(engine.ArenaParams, self._h) or "{}")

    def __len__(self) -> int:
        return self.num_batches

    def __getitem__(self, b: int) -> ArenaBatch:
        if not -self.num_batches <= b < self.num_batches:
            raise IndexError(f"batch {b} out of range for {self.num_batches} batches")
        o, n, e, m, nout = (int(v) for v in self._table[b % self.num_batches, :5])
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
            num_exact=int(self._table[b % self.num_batches, 5]) if self.has_halo else None,
        )

    def __iter__(self) -> Iterator[ArenaBatch]:
        return (self[b] for b in range(self.num_batches))

    def __repr__(self) -> str:
        halo = ", halo=True" if self.has_halo else ""
        return f"Arena(num_batches={self.num_batches}, nbytes={self.nbytes:,}, norm={self.norm!r}{halo})"


