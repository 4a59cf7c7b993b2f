"""CSR graphs built by the engine from PyG-style ``edge_index``.

Example:
    >>> import numpy as np, ibmb
    >>> g = ibmb.graph.CSRGraph.from_edge_index(np.array([[0, 1, 1], [1, 0, 2]]))
    >>> g.num_nodes, g.num_edges, g.degree().tolist()
    (3, 3, [1, 2, 0])
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ibmb._arrays import as_edge_index, as_index, as_int, is_tensor, ptr, torch
from ibmb._native import Handle, call, engine

__all__ = ["CSRGraph", "as_graph", "degree", "normalize", "subgraph"]


def _like(a: np.ndarray, ref: Any) -> Any:
    """Return ``a`` as a torch tensor when ``ref`` is one, else as numpy."""
    return torch.from_numpy(a) if is_tensor(ref) else a


class CSRGraph:
    """A directed graph in compressed sparse row form, held by the Go engine.

    Row ``u`` lists the targets of the edges ``u -> v`` (PyG's
    ``edge_index[0]`` is the source), sorted by target id.

    Build one with :meth:`from_edge_index`. The engine memory is freed when the
    object becomes unreachable (or explicitly with :meth:`close`).
    """

    def __init__(self, handle: int, _ref: Any = None) -> None:
        self._owner = Handle(handle)  # frees the engine graph with this object (or on close())
        self._ref = _ref  # the input type (numpy or torch) results are returned as
        shape = np.zeros(2, dtype=np.int64)
        call(engine.GraphShape, self._owner.value, ptr(shape, np.int64, 2, "shape", writable=True))
        self.num_nodes, self.num_edges = int(shape[0]), int(shape[1])

    @classmethod
    def from_edge_index(cls, edge_index: Any, num_nodes: Optional[int] = None, *, symmetrize: bool = False,
                        add_self_loops: bool = False, drop_duplicates: bool = False) -> "CSRGraph":
        """Build the CSR of ``edge_index``.

        Args:
            edge_index: ``[2, E]`` integer numpy array, torch tensor or nested
                list (``[[], []]`` is the empty graph).
            num_nodes: node count ``N`` (default: ``max id + 1``). Ids must lie in
                ``[0, N)``.
            symmetrize: also add ``v -> u`` for every ``u -> v``.
            add_self_loops: give every node exactly one self-loop ``u -> u``
                (if it has none).
            drop_duplicates: remove repeated ``(u, v)`` pairs.

        Raises:
            IndexError: a node id is negative or ``>= num_nodes``.
            TypeError: ``edge_index`` is not integer, or ``num_nodes`` is not
                an int.
            ValueError: wrong shape, or ``num_nodes`` negative or beyond the
                int32 id width.
        """
        ei = as_edge_index(edge_index)
        n = -1 if num_nodes is None else as_int(num_nodes, "num_nodes", min=0)
        h = call(engine.GraphFromCOO, ptr(ei, np.int64, 2 * ei.shape[1], "edge_index"), ei.shape[1], n,
                 bool(symmetrize), bool(add_self_loops), bool(drop_duplicates))
        return cls(h, edge_index)

    def close(self) -> None:
        """Free the engine memory now (the object is unusable afterwards)."""
        self._owner.close()

    def _handle(self) -> int:
        if not self._owner.alive:
            raise ValueError("this CSRGraph was closed")
        return self._owner.value

    def __repr__(self) -> str:
        return f"CSRGraph(num_nodes={self.num_nodes}, num_edges={self.num_edges})"

    @property
    def indptr(self) -> Any:
        """``[N + 1]`` int64 row pointers."""
        return self.csr()[0]

    @property
    def indices(self) -> Any:
        """``[E]`` int64 column (target) ids."""
        return self.csr()[1]

    def csr(self) -> tuple[Any, Any]:
        """``(indptr [N + 1], indices [E])``, both int64."""
        indptr = np.empty(self.num_nodes + 1, dtype=np.int64)
        indices = np.empty(self.num_edges, dtype=np.int64)
        call(engine.GraphCopyCSR, self._handle(), ptr(indptr, np.int64, self.num_nodes + 1, "indptr", True),
             ptr(indices, np.int64, self.num_edges, "indices", True))
        return _like(indptr, self._ref), _like(indices, self._ref)

    def edge_index(self) -> Any:
        """``[2, E]`` int64 edge_index in CSR order (sorted by source, then target)."""
        out = np.empty((2, self.num_edges), dtype=np.int64)
        call(engine.GraphCopyEdgeIndex, self._handle(), ptr(out, np.int64, 2 * self.num_edges, "out", True))
        return _like(out, self._ref)

    def degree(self) -> Any:
        """``[N]`` int64 out-degrees."""
        out = np.empty(self.num_nodes, dtype=np.int64)
        call(engine.GraphCopyDegrees, self._handle(), ptr(out, np.int64, self.num_nodes, "out", True))
        return _like(out, self._ref)

    def edge_weight(self, norm: str = "sym") -> Any:
        """``[E]`` float32 edge weights aligned with :meth:`edge_index`.

        ``norm``: ``"sym"`` (``D^-1/2 A D^-1/2``), ``"rw"`` (``D^-1 A``, row
        sums 1) or ``"none"`` (all ones). Degrees are out-degrees; nodes of
        degree 0 contribute weight 0, never NaN.
        """
        out = np.empty(self.num_edges, dtype=np.float32)
        call(engine.GraphCopyWeights, self._handle(), str(norm), ptr(out, np.float32, self.num_edges, "out", True))
        return _like(out, self._ref)

    def induced(self, nodes: Any) -> "CSRGraph":
        """Subgraph induced by ``nodes`` (``[M]`` distinct ids); node ``i`` of the
        result is ``nodes[i]``."""
        idx = as_index(nodes, "nodes")
        if is_tensor(idx):
            idx = idx.cpu().numpy()
        h = call(engine.GraphInduce, self._handle(), ptr(idx, np.int64, None, "nodes"), idx.shape[0])
        return CSRGraph(h, self._ref)


def as_graph(graph: Any, num_nodes: Optional[int] = None) -> CSRGraph:
    """``graph`` itself if it is a :class:`CSRGraph` (whose node count must
    then agree with ``num_nodes``), else the CSR of the edge_index ``graph``
    used as given."""
    if isinstance(graph, CSRGraph):
        if num_nodes is not None and as_int(num_nodes, "num_nodes", min=0) != graph.num_nodes:
            raise ValueError(f"num_nodes={num_nodes} disagrees with the graph's {graph.num_nodes} nodes")
        return graph
    return CSRGraph.from_edge_index(graph, num_nodes)


def degree(edge_index: Any, num_nodes: Optional[int] = None) -> Any:
    """``[N]`` int64 out-degree of every node of ``edge_index``."""
    return CSRGraph.from_edge_index(edge_index, num_nodes).degree()


def normalize(edge_index: Any, num_nodes: Optional[int] = None, norm: str = "sym", *,
              symmetrize: bool = False, add_self_loops: bool = False,
              drop_duplicates: bool = False) -> tuple[Any, Any]:
    """Return ``(edge_index [2, E'], edge_weight [E'])`` normalized by ``norm``
    (``"sym"``, ``"rw"``, ``"none"``), edges sorted in CSR order after the
    optional symmetrization, self-loops and duplicate removal."""
    g = CSRGraph.from_edge_index(edge_index, num_nodes, symmetrize=symmetrize, add_self_loops=add_self_loops,
                                 drop_duplicates=drop_duplicates)
    return g.edge_index(), g.edge_weight(norm)


def subgraph(nodes: Any, edge_index: Any, num_nodes: Optional[int] = None,
             norm: Optional[str] = None) -> tuple[Any, Any]:
    """Induced subgraph on ``nodes`` with local ids (positions in ``nodes``).

    Returns ``(edge_index [2, E_sub], edge_weight [E_sub] or None)``; the weights
    are normalized within the subgraph when ``norm`` is given.
    """
    sub = CSRGraph.from_edge_index(edge_index, num_nodes).induced(nodes)
    return sub.edge_index(), (None if norm is None else sub.edge_weight(norm))
