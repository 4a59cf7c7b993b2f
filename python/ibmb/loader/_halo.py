"""One-hop halos in the engine: the in-edge graph with the full graph's
weights, and the halo batch of any node set.

A halo batch lists its ``n_id`` as ``[exact nodes, halo]``: the exact nodes
(a loader batch's outputs, then its auxiliary nodes) are computed exactly,
so every in-edge of theirs is in the batch with its weight in the *full
graph's* normalization; the sources of those edges outside the batch are
its halo (ascending), whose hidden embeddings come from a history. There
are no edges into the halo. ``num_exact`` counts the exact nodes.

Weights (``norm``, with in-degrees ``d`` counted after merging repeated
edges and adding self-loops when asked): ``"sym"`` ``1/sqrt(d_u d_v)``
(PyG's ``gcn_norm`` with self-loops), ``"rw"`` ``1/d_v`` (a mean over the
in-neighbours), ``"none"`` ones. These are :class:`ibmb.nn.Halo`'s.
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from ibmb._arrays import ptr
from ibmb._native import Handle, call, engine
from ibmb.arena import ArenaBatch
from ibmb.graph import CSRGraph

__all__ = ["HALO_NORMS", "HaloGraph", "halo_spec", "HaloMerger"]

HALO_NORMS = ("sym", "rw", "none")


def halo_spec(halo: Any, add_self_loops: Optional[bool]) -> Optional[tuple[str, bool]]:
    """``(norm, self-loops)`` of a loader's ``halo`` argument, or None.

    ``halo``: None/False (no halo); True (GCN's convention: ``"sym"`` with
    self-loops); a norm of :data:`HALO_NORMS` (self-loops: ``add_self_loops``,
    by default True for ``"sym"`` and False otherwise, as ``ibmb.nn``'s
    models expect); or an :class:`ibmb.nn.Halo` (its norm and self-loops).
    """
    if halo is None or halo is False:
        return None
    if halo is True:
        halo = "sym"
    if isinstance(getattr(halo, "engine", halo), HaloGraph):
        if add_self_loops is not None and bool(add_self_loops) != halo.add_self_loops:
            raise ValueError(f"add_self_loops={add_self_loops} conflicts with the Halo's "
                             f"add_self_loops={halo.add_self_loops}")
        return str(halo.norm), bool(halo.add_self_loops)
    if not isinstance(halo, str) or halo not in HALO_NORMS:
        raise ValueError(f"halo must be None, a bool, an ibmb.nn.Halo or one of {HALO_NORMS}, got {halo!r}")
    return halo, (halo == "sym") if add_self_loops is None else bool(add_self_loops)


class HaloGraph:
    """The in-edge graph of ``graph`` (a :class:`CSRGraph` of the edges
    ``source -> target``) with the full graph's weights, and the engine's
    halo inducer over it.

    Attributes:
        graph: the in-edge :class:`CSRGraph` (row ``v``: the sources of
            ``v``'s in-edges, ascending; weights as in the module doc).
        norm, add_self_loops: how it was built.
        in_degree: ``[N]`` int64 in-degrees (rows' lengths).
    """

    def __init__(self, graph: CSRGraph, norm: str = "sym", add_self_loops: bool = True) -> None:
        if norm not in HALO_NORMS:
            raise ValueError(f"norm must be one of {HALO_NORMS}, got {norm!r}")
        self.norm, self.add_self_loops = norm, bool(add_self_loops)
        self.graph = CSRGraph(call(engine.GraphHalo, graph._handle(), norm, self.add_self_loops), graph._ref)
        self.num_nodes, self.num_edges = self.graph.num_nodes, self.graph.num_edges
        self.in_degree = np.asarray(self.graph.degree())
        self._inducer = Handle(call(engine.HaloInducerNew, self.graph._handle()))

    def induce(self, exact: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(halo [H], edge_index [2, m], edge_weight [m])`` of the ``[B]``
        distinct int64 ids ``exact`` (local ids: positions in ``[exact,
        halo]``). IndexError for an id out of range, ValueError for a
        repeated one. Safe to call from several threads."""
        exact = np.ascontiguousarray(exact, dtype=np.int64)
        b = exact.shape[0]
        if b and (exact.min() < 0 or exact.max() >= self.num_nodes):
            bad = exact[(exact < 0) | (exact >= self.num_nodes)][0]
            raise IndexError(f"node id {bad} is out of range for {self.num_nodes} nodes")
        m = int(self.in_degree[exact].sum())
        # An exact bound for distinct ids (one call suffices); with repeated
        # ids (b may exceed N) the engine reports the repeat.
        cap_halo = max(0, min(m, self.num_nodes - b))
        halo = np.empty(cap_halo, np.int64)
        edges, weight = np.empty(2 * m, np.int64), np.empty(m, np.float32)
        counts = np.zeros(2, np.int64)
        call(engine.HaloInducerRun, self._inducer.value, ptr(exact, np.int64, b, "exact") if b else 0, b,
             ptr(halo, np.int64, cap_halo, "halo", True) if cap_halo else 0, cap_halo,
             ptr(edges, np.int64, 2 * m, "edges", True) if m else 0,
             ptr(weight, np.float32, m, "weight", True) if m else 0, m, ptr(counts, np.int64, 2, "counts", True))
        h = int(counts[0])
        if h > cap_halo or int(counts[1]) != m:  # cannot happen: the bounds above are exact
            raise RuntimeError(f"halo inducer: {h} halo nodes and {int(counts[1])} edges exceed the bounds "
                               f"{cap_halo}, {m}")
        return halo[:h], edges.reshape(2, m), weight

    def __repr__(self) -> str:
        return (f"HaloGraph(num_nodes={self.num_nodes}, num_edges={self.graph.num_edges}, norm={self.norm!r}, "
                f"add_self_loops={self.add_self_loops})")


class HaloMerger:
    """Merges halo arena batches (``batch_size > 1``): the merged batch's
    exact nodes are the union of the members' exact nodes (outputs first,
    ascending, then the others, ascending), its halo and edges are those of
    that union, as a halo arena built of the union batch would hold them
    (so a member's halo node that another member computes becomes exact)."""

    def __init__(self, halo: HaloGraph, labels: Optional[np.ndarray]) -> None:
        self.halo, self._labels = halo, labels

    def merge(self, views: list[ArenaBatch]) -> ArenaBatch:
        out = np.unique(np.concatenate([v.n_id[:v.batch_size] for v in views]))
        exact = np.unique(np.concatenate([v.n_id[:_exact(v)] for v in views]))
        exact = np.concatenate([out, exact[~np.isin(exact, out, assume_unique=True)]])
        halo, edge_index, weight = self.halo.induce(exact)
        n_id = np.concatenate([exact, halo])
        mask = np.zeros(n_id.shape[0], np.bool_)
        mask[:out.shape[0]] = True
        y = None if self._labels is None else self._labels[n_id]
        return ArenaBatch(n_id=n_id, output_mask=mask, edge_index=edge_index, edge_weight=weight, y=y, x=None,
                          batch_size=int(out.shape[0]), num_exact=int(exact.shape[0]))


def _exact(v: ArenaBatch) -> int:
    return v.n_id.shape[0] if v.num_exact is None else int(v.num_exact)


def graph_halo(graph: Union[CSRGraph, HaloGraph, Any], norm: str, add_self_loops: bool) -> HaloGraph:
    """``graph`` itself when it is a matching :class:`HaloGraph` (or an
    ``ibmb.nn.Halo``'s), else the :class:`HaloGraph` of ``graph``."""
    hg = getattr(graph, "engine", graph)
    if isinstance(hg, HaloGraph):
        if (hg.norm, hg.add_self_loops) != (norm, bool(add_self_loops)):
            raise ValueError(f"the halo graph has norm={hg.norm!r}, add_self_loops={hg.add_self_loops}; "
                             f"wanted {norm!r}, {bool(add_self_loops)}")
        return hg
    return HaloGraph(graph, norm, add_self_loops)
