"""Approximate personalized PageRank by push (Andersen, Chung & Lang).

Node-wise top-k PPR is what node-wise IBMB uses to pick each output node's
auxiliary nodes; topic-sensitive (set-wise) PPR is what batch-wise IBMB uses.

For every target (or set) the engine returns an estimate ``p̂`` with
``0 <= p(v) - p̂(v) <= eps * deg(v)`` for every node ``v`` on undirected
(symmetric) graphs, where ``p`` is the exact PPR vector with teleport
probability ``alpha`` and ``deg`` the out-degree. A vector costs at most
``1 / (alpha * eps)`` neighbour updates; parameters with ``alpha * eps <
1e-10`` are refused. The computation runs as an engine job: Ctrl-C stops it
and raises ``KeyboardInterrupt`` within a second.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np

from ibmb import _jobs
from ibmb._arrays import as_index, as_int, as_node_ids, is_tensor, ptr, torch
from ibmb._native import call, engine
from ibmb.graph import CSRGraph, as_graph

__all__ = ["PPRResult", "node_ppr", "set_ppr", "get_ppr"]


@dataclass
class PPRResult:
    """PPR vectors in CSR form: row ``i`` belongs to target (or set) ``i``.

    Attributes:
        indptr: ``[R + 1]`` int64 row offsets.
        nodes: ``[nnz]`` int64 node ids; each row sorted by descending score,
            ties by ascending id.
        scores: ``[nnz]`` float32 PPR scores.
        pushes: node pushes performed.
        edge_pushes: neighbour updates performed.
        seconds: wall time of the computation.
    """

    indptr: np.ndarray
    nodes: np.ndarray
    scores: np.ndarray
    pushes: int
    edge_pushes: int
    seconds: float

    @property
    def num_rows(self) -> int:
        return len(self.indptr) - 1

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(nodes, scores)`` of row ``i``."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.nodes[a:b], self.scores[a:b]


def _check_alpha_eps(alpha: float, eps: float) -> None:
    """Raise ``ValueError`` unless ``alpha`` and ``eps`` are admissible push
    parameters: ``0 < alpha < 1``, ``eps`` positive and finite, and
    ``alpha * eps >= 1e-10``.

    The push costs at most ``1 / (alpha * eps)`` neighbour updates per vector
    (every push after the first moves at least ``alpha * eps * deg(u)`` of the
    unit mass into the estimate); the engine refuses bounds above ``1e10``,
    hours per vector on a large graph (``alpha=1e-9``, or ``eps=5e-324``,
    which would never finish). The rule is the engine's own (Go
    ``ppr.CheckParams``), so Python and Go never disagree."""
    call(engine.PPRCheckParams, float(alpha), float(eps))


def _check_params(alpha: float, eps: float, topk: Optional[int]) -> int:
    _check_alpha_eps(alpha, eps)
    if topk is None:
        return 0
    return as_int(topk, "topk (or None for every entry)", min=1)


def _device(device: Any) -> int:
    """Engine device code: -1 for the CPU, else the CUDA ordinal."""
    if device is None:
        return -1
    if hasattr(device, "type"):  # torch.device
        kind, index = device.type, device.index
    else:
        text = str(device)
        kind, _, idx = text.partition(":")
        try:
            index = int(idx) if idx else None
        except ValueError:
            raise ValueError(f"unsupported device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from None
    if kind == "cpu":
        return -1
    if kind == "cuda":
        if index is None:
            index = torch.cuda.current_device() if torch is not None and torch.cuda.is_available() else 0
        if index < 0:
            raise ValueError(f"CUDA device index must be >= 0, got {index}")
        return int(index)
    raise ValueError(f"unsupported device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")


_ORDERS = {"fifo": 0, "lifo": 1}


def _order(order: str) -> int:
    try:
        return _ORDERS[str(order).lower()]
    except KeyError:
        raise ValueError(f"order must be 'fifo' or 'lifo', got {order!r}") from None


def _collect(job: int, desc: str, progress: Optional[bool], t0: float) -> PPRResult:
    try:
        _jobs.wait(job, desc, progress)
        shape = np.zeros(4, dtype=np.int64)
        call(engine.PPRShape, job, ptr(shape))
        rows, nnz = int(shape[0]), int(shape[1])
        indptr = np.empty(rows + 1, dtype=np.int64)
        nodes = np.empty(nnz, dtype=np.int64)
        scores = np.empty(nnz, dtype=np.float32)
        call(engine.PPRCopy, job, ptr(indptr), ptr(nodes), ptr(scores))
        return PPRResult(indptr, nodes, scores, int(shape[2]), int(shape[3]), time.perf_counter() - t0)
    finally:
        call(engine.Free, job)


def node_ppr(graph: Union[CSRGraph, Any], targets: Any = None, alpha: float = 0.2, eps: float = 1e-5,
             topk: Optional[int] = None, num_nodes: Optional[int] = None, device: Any = None,
             num_threads: int = 0, progress: Optional[bool] = None, order: str = "fifo") -> PPRResult:
    """Top-k PPR vector of every target node, computed in parallel.

    Args:
        graph: a :class:`ibmb.graph.CSRGraph` or a ``[2, E]`` edge_index (used as
            given: edge ``u -> v`` in row ``u``; symmetrize it first for an
            undirected graph).
        targets: ``[T]`` node ids (any order, repeats allowed), or a ``[N]``
            boolean mask; ``None`` means every node.
        alpha: teleport probability in ``(0, 1)``.
        eps: push threshold (> 0): nodes are pushed while ``r(u) >= eps * deg(u)``;
            a vector costs at most ``1 / (alpha * eps)`` neighbour updates, and
            ``alpha * eps < 1e-10`` is refused (``ValueError``, see
            :func:`_check_alpha_eps`).
        topk: keep the ``topk`` largest entries per target (``None``: all).
        num_nodes: node count when ``graph`` is an edge_index.
        device: ``None``/``"cpu"``, or ``"cuda"``/``"cuda:N"`` for the GPU push
            (same error bound, not bit-identical to the CPU; raises
            :class:`ibmb.UnavailableError` when no CUDA device can be used).
        num_threads: CPU worker threads (0: all cores); never changes the result.
        progress: show a progress bar (``None``: only on a terminal, for long runs).
        order: CPU push order, ``"fifo"`` (fewer pushes) or ``"lifo"`` (PyG's
            order: reproduces ``torch_geometric.utils.get_ppr`` up to rounding).
    """
    k = _check_params(alpha, eps, topk)
    num_threads = as_int(num_threads, "num_threads", min=0)
    dev, o = _device(device), _order(order)
    g = as_graph(graph, num_nodes)
    t = as_node_ids(targets, g.num_nodes, "target")
    t0 = time.perf_counter()
    job = call(engine.PPRNodeWise, g._handle(), ptr(t), t.shape[0], float(alpha), float(eps), k, int(num_threads),
               o, dev)
    return _collect(job, "PPR", progress, t0)


def set_ppr(graph: Union[CSRGraph, Any], sets: Sequence[Any], alpha: float = 0.2, eps: float = 1e-5,
            topk: Optional[int] = None, num_nodes: Optional[int] = None, device: Any = None,
            num_threads: int = 0, progress: Optional[bool] = None, order: str = "fifo") -> PPRResult:
    """Topic-sensitive PPR: one vector per set of target nodes, teleporting
    uniformly over the set (a node listed twice counts once). ``sets`` is a
    sequence of id arrays. Other arguments as :func:`node_ppr`."""
    k = _check_params(alpha, eps, topk)
    num_threads = as_int(num_threads, "num_threads", min=0)
    dev, o = _device(device), _order(order)
    g = as_graph(graph, num_nodes)
    if len(sets) == 0:
        raise ValueError("no target sets given")
    arrays = [np.asarray(s.cpu() if is_tensor(s) else s) for s in sets]
    for i, a in enumerate(arrays):
        if a.size == 0:
            raise ValueError(f"target set {i} is empty")
    arrays = [as_index(a, f"sets[{i}]") for i, a in enumerate(arrays)]
    set_ptr = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=set_ptr[1:])
    set_nodes = np.concatenate(arrays).astype(np.int64, copy=False)
    t0 = time.perf_counter()
    job = call(engine.PPRSetWise, g._handle(), ptr(set_ptr), len(arrays), ptr(set_nodes), set_nodes.shape[0],
               float(alpha), float(eps), k, int(num_threads), o, dev)
    return _collect(job, "PPR (sets)", progress, t0)


def get_ppr(edge_index: Any, alpha: float = 0.2, eps: float = 1e-5, target: Any = None,
            num_nodes: Optional[int] = None, topk: Optional[int] = None, device: Any = None,
            progress: Optional[bool] = None, order: Optional[str] = None) -> tuple[Any, Any]:
    r"""Drop-in for ``torch_geometric.utils.get_ppr``, plus ``topk``.

    Computes approximate personalized PageRank vectors of the ``target`` nodes
    by push on the graph ``edge_index`` as given (edge ``u -> v`` counts
    towards ``deg(u)``), in parallel in the native engine.

    Args:
        edge_index: ``[2, E]`` int64 tensor (or numpy array).
        alpha: teleport probability in ``(0, 1)`` (default: 0.2).
        eps: push threshold (default: 1e-5); ``alpha * eps`` must be at least
            ``1e-10`` (the work bound ``1 / (alpha * eps)`` per target).
        target: ``[T]`` target node ids (default: every node).
        num_nodes: node count (default: ``max id + 1``).
        topk: keep only the ``topk`` largest entries per target (default: all).
        device: ``None``/``"cpu"``, or ``"cuda"``/``"cuda:N"`` for the GPU push.
        progress: progress bar (default: on a terminal, for long runs).
        order: CPU push order, ``"lifo"`` (the default on the CPU: PyG's, so the
            values match PyG's up to float rounding) or ``"fifo"`` (usually
            fewer pushes; same error bound). The GPU push has its own order.

    Returns:
        ``(edge_index [2, nnz], weight [nnz])``: ``edge_index[0]`` holds the
        target, ``edge_index[1]`` the node, ``weight`` (float32) its PPR score;
        entries are grouped by target in the given order, each group sorted by
        descending score (PyG lists them in push order: the sets and values are
        the same up to float rounding and push order). Tensors when
        ``edge_index`` is a tensor, numpy arrays otherwise.
    """
    _check_params(alpha, eps, topk)
    if order is None:
        order = "lifo" if _device(device) < 0 else "fifo"
    _order(order)
    g = as_graph(edge_index, num_nodes)
    t = as_node_ids(target, g.num_nodes, "target")
    res = node_ppr(g, t, alpha=alpha, eps=eps, topk=topk, device=device, progress=progress, order=order)
    rows = np.repeat(t, np.diff(res.indptr))
    ei = np.stack([rows, res.nodes])
    if is_tensor(edge_index):
        return torch.from_numpy(ei), torch.from_numpy(res.scores)
    return ei, res.scores
