"""Graph partitioning backends behind :func:`ibmb.batching.partition`.

``"ibmb"`` is the engine's own deep multilevel partitioner (no extra
package). ``"kaminpar"`` and ``"metis"`` call KaMinPar and METIS through
their PyPI packages ``kaminpar`` and ``pymetis``, installed with
``pip install kaminpar pymetis`` or the ``partitioners`` extra
(``pip install ibmb[partitioners]``); without them
:class:`ibmb.UnavailableError` names the package to install.

Both external backends see the graph as simple and undirected: every entry
``u -> v`` is read as the edge ``{u, v}``, parallel edges are merged and
self-loops dropped (ibmb's own partitioner adds parallel edges up instead,
which makes no difference for the usual symmetric graphs without duplicates).
Their results follow ibmb's conventions for the trivial cases: one part puts
every node in part 0, and ``num_partitions >= N`` puts node ``i`` in part
``i``. KaMinPar is not deterministic with more than one thread; METIS and
ibmb are (for a fixed seed).
"""
from __future__ import annotations

import importlib
import os
import tempfile
from typing import Any, Optional

import numpy as np

from ibmb._native import UnavailableError
from ibmb.graph import CSRGraph

__all__ = ["METHODS", "check_method", "external_partition"]

#: Accepted values of ``method``.
METHODS = ("ibmb", "kaminpar", "metis")

_PACKAGES = {"kaminpar": "kaminpar", "metis": "pymetis"}


def check_method(method: Any) -> str:
    """``method`` if it names a backend, else ValueError listing the choices."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    return method


def _import(method: str) -> Any:
    """The backend's module, or UnavailableError naming the pip package."""
    name = _PACKAGES[method]
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise UnavailableError(
            f"partition method {method!r} needs the {name!r} package, which is not installed here: "
            f"pip install {name}  (or: pip install 'ibmb[partitioners]')") from e


def _simple_csr(g: CSRGraph) -> tuple[np.ndarray, np.ndarray]:
    """``(xadj [N+1], adjncy [2M])`` int64 of the simple undirected graph of
    ``g``: both directions of every edge, no duplicates, no self-loops."""
    n = g.num_nodes
    s = CSRGraph.from_edge_index(g.edge_index(), n, symmetrize=True, drop_duplicates=True)
    indptr, indices = s.csr()
    indptr, indices = np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keep = rows != indices
    xadj = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=n), out=xadj[1:])
    return xadj, np.ascontiguousarray(indices[keep])


def _metis(mod: Any, xadj: np.ndarray, adjncy: np.ndarray, k: int, w: Optional[np.ndarray],
           imbalance: float, seed: int) -> np.ndarray:
    """METIS k-way through pymetis; ``imbalance`` becomes METIS's ufactor."""
    opts = mod.Options()
    opts.ufactor = max(1, int(round(1000 * imbalance)))
    opts.seed = int(seed)
    vw = None if w is None else w.tolist()
    if hasattr(mod, "CSRAdjacency"):
        res = mod.part_graph(k, adjacency=mod.CSRAdjacency(xadj, adjncy), vweights=vw, options=opts)
    else:  # pymetis < 2025.2
        res = mod.part_graph(k, xadj=xadj, adjncy=adjncy, vweights=vw, options=opts)
    return np.asarray(res[1], dtype=np.int64)


def _parhip(path: str, xadj: np.ndarray, adjncy: np.ndarray, w: Optional[np.ndarray]) -> None:
    """Write the graph in the binary ParHIP format that KaMinPar loads:
    a header (version flags, N, 2M as uint64), byte offsets of the rows
    (uint64), neighbours (uint32), then node weights (uint32) if any."""
    n, m = len(xadj) - 1, len(adjncy)
    # Flag bits are set when a feature is absent: 0 edge weights, 1 node
    # weights, 2 64-bit edge ids, 3 64-bit node ids, 4/5 64-bit weights.
    version = 1 | (0 if w is not None else 2) | 8 | 16 | 32
    base = 24 + 8 * (n + 1)
    with open(path, "wb") as f:
        np.array([version, n, m], dtype=np.uint64).tofile(f)
        (base + 4 * xadj).astype(np.uint64).tofile(f)
        adjncy.astype(np.uint32).tofile(f)
        if w is not None:
            w.astype(np.uint32).tofile(f)


def _kaminpar(mod: Any, xadj: np.ndarray, adjncy: np.ndarray, k: int, w: Optional[np.ndarray],
              imbalance: float, seed: int, num_threads: int) -> np.ndarray:
    """KaMinPar's default configuration through its Python package (which
    reads graphs from files: the graph goes through a temporary ParHIP file)."""
    if w is not None and w.size and w.max() >= 2**31:
        raise ValueError("partition method 'kaminpar' needs node weights below 2**31")
    fd, path = tempfile.mkstemp(suffix=".parhip")
    os.close(fd)
    try:
        _parhip(path, xadj, adjncy, w)
        kg = mod.load_graph(path, mod.GraphFileFormat.PARHIP)
    finally:
        os.unlink(path)
    mod.reseed(int(seed))
    threads = num_threads if num_threads > 0 else (os.cpu_count() or 1)
    parts = mod.KaMinPar(threads, mod.default_context()).compute_partition(kg, k, float(imbalance))
    return np.asarray(parts, dtype=np.int64)


def external_partition(method: str, g: CSRGraph, k: int, w: Optional[np.ndarray], imbalance: float,
                       seed: int, num_threads: int) -> np.ndarray:
    """Partition ``g`` into ``k`` parts with ``method`` (``"kaminpar"`` or
    ``"metis"``); ``w`` is ``None`` or ``[N]`` int64 node weights >= 0.
    Returns the ``[N]`` int64 part of every node."""
    mod = _import(method)
    n = g.num_nodes
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"num_partitions must be a positive integer, got {k!r}")
    if w is not None and w.size and w.min() < 0:
        raise ValueError("node_weight must be non-negative")
    if k == 1 or n == 0:
        return np.zeros(n, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    xadj, adjncy = _simple_csr(g)
    if method == "metis":
        return _metis(mod, xadj, adjncy, int(k), w, imbalance, seed)
    return _kaminpar(mod, xadj, adjncy, int(k), w, imbalance, seed, num_threads)
