"""Interim one-hop halo for history-based training, built in Python.

A model with historical embeddings computes a batch's own nodes exactly,
so every in-edge of those nodes must be in the batch, with its weight in
the *full graph's* normalization. The nodes at the other end of those
edges that lie outside the batch are the batch's *halo*: their hidden
embeddings come from the history.

:class:`Halo` builds this from the graph's CSR of in-edges (rows are
targets, columns their sources). It is the interim form of issue 14 item 2:
the loaders' arena does not carry halos yet, so here they are computed per
batch in numpy. The engine-side version should store ``n_id`` ordered
outputs, auxiliary nodes, halo; the in-edges of the exact nodes with
global weights; and ``num_exact`` in the arena, so that batches stay
zero-copy views.
"""
from __future__ import annotations

import threading
from typing import Any, Iterator, NamedTuple, Optional

import numpy as np

from ibmb._arrays import as_edge_index, as_index, as_int, is_tensor, torch
from ibmb.ops import gather
from ibmb.graph import CSRGraph

__all__ = ["Halo", "HaloBatch", "HaloLoader"]

_NORMS = ("sym", "rw", "none")


class HaloBatch(NamedTuple):
    """One batch with its halo (all tensors int64/float32 on the CPU).

    Attributes:
        n_id: ``[B + H]`` global ids: the ``B`` exact nodes in the order
            given, then the ``H`` halo nodes (ascending).
        edge_index: ``[2, m]`` local edges ``source -> target``: every
            in-edge of every exact node (targets ``< B``), none into the halo.
        edge_weight: ``[m]`` weights in the full graph's normalization.
        num_exact: ``B``.
    """

    n_id: Any
    edge_index: Any
    edge_weight: Any
    num_exact: int


class Halo:
    """In-edge CSR of a graph, to expand node sets by their one-hop halo.

    Args:
        edge_index: ``[2, E]`` edges ``source -> target`` (PyG's convention).
        num_nodes: ``N`` (default: ``max id + 1``).
        add_self_loops: give every node one self-loop (GCN, GCNII, APPNP).
        norm: ``"sym"`` (``D^-1/2 A D^-1/2`` with in-degrees: PyG's
            ``gcn_norm``), ``"rw"`` (``1 / in-degree``) or ``"none"`` (ones).

    Repeated edges are merged. With ``add_self_loops=True, norm="sym"`` the
    weights equal ``torch_geometric.nn.conv.gcn_norm``'s on the full graph.

    Example:
        >>> halo = Halo(data.edge_index, data.num_nodes, add_self_loops=True, norm="sym")
        >>> b = halo(torch.tensor([5, 2]))   # exact nodes 5 and 2, then their halo
        >>> b.n_id[:b.num_exact].tolist()
        [5, 2]
    """

    def __init__(self, edge_index: Any, num_nodes: Optional[int] = None, *, add_self_loops: bool = False,
                 norm: str = "none") -> None:
        if norm not in _NORMS:
            raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
        ei = as_edge_index(edge_index)
        g = CSRGraph.from_edge_index(ei[::-1].copy(), num_nodes, add_self_loops=add_self_loops,
                                     drop_duplicates=True)
        self.num_nodes: int = g.num_nodes
        self.num_edges: int = g.num_edges
        self.add_self_loops, self.norm = bool(add_self_loops), norm
        indptr, indices = g.csr()
        self._indptr, self._indices = indptr, indices
        self._weight = np.asarray(g.edge_weight(norm), dtype=np.float32)
        self._local = np.full(self.num_nodes, -1, np.int64)  # global -> local id, reset after each call
        self._lock = threading.Lock()

    def full(self) -> tuple[Any, Any]:
        """``(edge_index [2, E], edge_weight [E])`` of the whole graph, in the
        convention of the batches (for the full-batch forward)."""
        tgt = np.repeat(np.arange(self.num_nodes, dtype=np.int64), np.diff(self._indptr))
        return torch.from_numpy(np.stack([self._indices, tgt])), torch.from_numpy(self._weight.copy())

    def __call__(self, nodes: Any) -> HaloBatch:
        """The halo batch of ``nodes`` (``[B]`` distinct ids in ``[0, N)``).

        Raises:
            IndexError: an id out of range.
            ValueError: a repeated id.
        """
        idx = as_index(nodes, "nodes")
        nodes = np.asarray(idx.cpu().numpy() if is_tensor(idx) else idx, dtype=np.int64)
        b = nodes.shape[0]
        if b and (nodes.min() < 0 or nodes.max() >= self.num_nodes):
            bad = nodes[(nodes < 0) | (nodes >= self.num_nodes)][0]
            raise IndexError(f"node id {bad} is out of range for {self.num_nodes} nodes")
        start, stop = self._indptr[nodes], self._indptr[nodes + 1]
        count = stop - start
        m = int(count.sum())
        # positions of every in-edge of every node, row by row
        first = np.repeat(start - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
        pos = first + np.arange(m, dtype=np.int64)
        src = self._indices[pos]
        tgt = np.repeat(np.arange(b, dtype=np.int64), count)
        with self._lock:
            local = self._local
            halo = nodes[:0]
            try:
                local[nodes] = np.arange(b, dtype=np.int64)
                if not np.array_equal(local[nodes], np.arange(b, dtype=np.int64)):
                    raise ValueError("nodes holds a repeated id; the exact nodes of a batch must be distinct")
                halo = np.unique(src[local[src] < 0])
                local[halo] = b + np.arange(halo.shape[0], dtype=np.int64)
                src_local = local[src]
            finally:
                local[nodes] = -1
                local[halo] = -1
        n_id = np.concatenate([nodes, halo])
        return HaloBatch(torch.from_numpy(n_id), torch.from_numpy(np.stack([src_local, tgt])),
                         torch.from_numpy(self._weight[pos]), b)

    def expand(self, batch: Any, data: Any) -> Any:
        """A PyG ``Data`` of ``batch`` (a loader's batch with ``n_id`` and
        ``batch_size``) plus its halo: every batch node is exact.

        Returns a ``Data`` with ``x`` ``[B + H, F]`` and ``y`` ``[B + H]``
        gathered from ``data``, ``edge_index``/``edge_weight`` of
        :class:`HaloBatch`, ``n_id``, ``num_exact = B`` and ``batch_size``
        (the output nodes, first, as in ``batch``).
        """
        from torch_geometric.data import Data

        if getattr(batch, "n_id", None) is None:
            raise ValueError("batch has no n_id (global node ids)")
        if int(data.num_nodes) != self.num_nodes:
            raise ValueError(f"data has {data.num_nodes} nodes but the halo's graph has {self.num_nodes}")
        hb = self(batch.n_id)
        x = data.x
        if x.dtype in (torch.float32, torch.float16, torch.bfloat16) and x.is_contiguous() and not x.is_cuda:
            x = gather(x, hb.n_id)
        else:
            x = x.index_select(0, hb.n_id.to(x.device))
        out = Data(x=x, edge_index=hb.edge_index, edge_weight=hb.edge_weight, n_id=hb.n_id,
                   num_nodes=int(hb.n_id.shape[0]))
        if getattr(data, "y", None) is not None:
            out.y = data.y.index_select(0, hb.n_id.to(data.y.device))
        out.num_exact = hb.num_exact
        out.batch_size = int(getattr(batch, "batch_size", hb.num_exact))
        return out

    def batches(self, num_nodes_per_batch: int = 4096, nodes: Any = None) -> list[HaloBatch]:
        """Halo batches covering ``nodes`` (default: all) in consecutive
        chunks of ``num_nodes_per_batch`` exact nodes (layer-wise inference)."""
        k = as_int(num_nodes_per_batch, "num_nodes_per_batch", min=1)
        ids = np.arange(self.num_nodes, dtype=np.int64) if nodes is None else nodes
        return [self(ids[i:i + k]) for i in range(0, len(ids), k)]

    def __repr__(self) -> str:
        return (f"Halo(num_nodes={self.num_nodes}, num_edges={self.num_edges}, add_self_loops={self.add_self_loops},"
                f" norm={self.norm!r})")


class HaloLoader:
    """Iterates ``loader`` (e.g. :class:`ibmb.IBMBNodeLoader`) and yields
    each batch expanded by :meth:`Halo.expand` (interim: computed per batch
    in Python)."""

    def __init__(self, loader: Any, halo: Halo, data: Any) -> None:
        self.loader, self.halo, self.data = loader, halo, data

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            yield self.halo.expand(batch, self.data)
