"""One-hop halos for history-based training, computed by the engine.

A model with historical embeddings computes a batch's own nodes exactly,
so every in-edge of those nodes must be in the batch, with its weight in
the *full graph's* normalization. The nodes at the other end of those
edges that lie outside the batch are the batch's *halo*: their hidden
embeddings come from the history.

:class:`Halo` holds the graph's in-edge CSR (rows are targets, columns
their sources) with those weights in the engine
(:class:`ibmb.loader._halo.HaloGraph`) and builds the halo batch of any node
set there. The loaders can store halo batches in their arena themselves
(``halo=True`` or ``halo=model.halo(edge_index)``: zero-copy views, saved
with the batches); :class:`HaloLoader` passes such batches through and
expands the batches of other loaders with :meth:`Halo.expand`.
"""
from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Optional

import numpy as np

from ibmb._arrays import as_edge_index, as_index, as_int, is_tensor, torch
from ibmb.graph import CSRGraph
from ibmb.loader._halo import HaloGraph
from ibmb.loader.prefetch import pipeline, pull_halo
from ibmb.ops import gather

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

    Attributes:
        engine: the engine's :class:`~ibmb.loader._halo.HaloGraph` (the
            in-edge graph and its halo inducer); loaders and
            :meth:`ibmb.Arena.build` take the Halo itself as ``halo=``.

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
        g = CSRGraph.from_edge_index(as_edge_index(edge_index), num_nodes, drop_duplicates=True)
        self.engine = HaloGraph(g, norm, bool(add_self_loops))
        self.num_nodes: int = self.engine.num_nodes
        self.num_edges: int = self.engine.graph.num_edges
        self.add_self_loops, self.norm = bool(add_self_loops), norm

    def full(self) -> tuple[Any, Any]:
        """``(edge_index [2, E], edge_weight [E])`` of the whole graph, in the
        convention of the batches (for the full-batch forward)."""
        hg = self.engine.graph
        indptr, indices = hg.csr()
        tgt = np.repeat(np.arange(self.num_nodes, dtype=np.int64), np.diff(np.asarray(indptr)))
        weight = np.asarray(hg.edge_weight("none"), dtype=np.float32)
        return torch.from_numpy(np.stack([np.asarray(indices), tgt])), torch.from_numpy(weight)

    def __call__(self, nodes: Any) -> HaloBatch:
        """The halo batch of ``nodes`` (``[B]`` distinct ids in ``[0, N)``).

        Raises:
            IndexError: an id out of range.
            ValueError: a repeated id.
        """
        idx = as_index(nodes, "nodes")
        nodes = np.ascontiguousarray(idx.cpu().numpy() if is_tensor(idx) else idx, dtype=np.int64)
        halo, edge_index, weight = self.engine.induce(nodes)
        n_id = np.concatenate([nodes, halo])
        return HaloBatch(torch.from_numpy(n_id), torch.from_numpy(edge_index), torch.from_numpy(weight),
                         int(nodes.shape[0]))

    def expand(self, batch: Any, data: Any) -> Any:
        """A PyG ``Data`` of ``batch`` (a loader's batch with ``n_id`` and
        ``batch_size``) plus its halo: every batch node is exact.

        Returns a ``Data`` with ``x`` ``[B + H, F]`` and ``y`` ``[B + H]``
        gathered from ``data``, ``edge_index``/``edge_weight`` of
        :class:`HaloBatch`, ``n_id``, ``num_exact = B`` and ``batch_size``
        (the output nodes, first, as in ``batch``).
        """
        if getattr(batch, "n_id", None) is None:
            raise ValueError("batch has no n_id (global node ids)")
        if int(data.num_nodes) != self.num_nodes:
            raise ValueError(f"data has {data.num_nodes} nodes but the halo's graph has {self.num_nodes}")
        hb = self(batch.n_id)
        return self.materialize(hb, data, int(getattr(batch, "batch_size", hb.num_exact)))

    def materialize(self, hb: HaloBatch, data: Any, batch_size: Optional[int] = None,
                    exact_x: bool = False) -> Any:
        """A PyG ``Data`` of the halo batch ``hb``: ``x`` ``[B + H, F]`` and
        ``y`` ``[B + H]`` gathered from ``data`` by ``hb.n_id``, its edges,
        ``n_id``, ``num_exact`` and ``batch_size`` (default ``num_exact``).
        A caller that keeps the halo batches of fixed node sets gathers
        only the feature rows per step. ``exact_x=True`` gathers the ``B``
        exact rows of ``x`` only (``[B, F]``: for models fed ``Â·X``, whose
        first layer never reads the halo's inputs)."""
        from torch_geometric.data import Data

        x = data.x
        rows = hb.n_id[:hb.num_exact] if exact_x else hb.n_id
        if x.dtype in (torch.float32, torch.float16, torch.bfloat16) and x.is_contiguous() and not x.is_cuda:
            x = gather(x, rows)
        else:
            x = x.index_select(0, rows.to(x.device))
        out = Data(x=x, edge_index=hb.edge_index, edge_weight=hb.edge_weight, n_id=hb.n_id,
                   num_nodes=int(hb.n_id.shape[0]))
        if getattr(data, "y", None) is not None:
            out.y = data.y.index_select(0, hb.n_id.to(data.y.device))
        out.num_exact = hb.num_exact
        out.batch_size = hb.num_exact if batch_size is None else int(batch_size)
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
    each batch with its halo: a loader whose arena holds halo batches of the
    same convention (built with ``halo=`` this Halo, or one with the same
    ``norm`` and ``add_self_loops``) is passed through as it is (zero-copy
    views); any other loader's batches are expanded by :meth:`Halo.expand`
    in the engine (on the prefetch thread below when there is one).

    With ``histories`` (an :class:`ibmb.HistoryStore`), a prefetch thread
    also pulls each batch's halo rows from every history, up to
    ``prefetch`` batches ahead, into ``batch.halo_rows`` (asynchronous pulls,
    see :func:`ibmb.loader.prefetch.pull_halo` for how stale they may be);
    pass them on as ``model(..., halo_rows=batch.halo_rows)``."""

    def __init__(self, loader: Any, halo: Halo, data: Any, *, histories: Any = None, prefetch: int = 1) -> None:
        self.loader, self.halo, self.data = loader, halo, data
        self.histories, self.prefetch = histories, as_int(prefetch, "prefetch", min=0)
        if histories is not None and getattr(histories, "num_nodes", None) != halo.num_nodes:
            raise ValueError(f"histories must be an ibmb.HistoryStore of the halo's {halo.num_nodes} nodes")
        arena = getattr(loader, "arena", None)
        self.passthrough = bool(getattr(arena, "has_halo", False))
        if self.passthrough:
            params = arena.params
            got = (params.get("halo"), bool(params.get("add_self_loops")))
            if got != (halo.norm, halo.add_self_loops):
                raise ValueError(f"the loader's halo batches have norm={got[0]!r}, add_self_loops={got[1]}; the "
                                 f"Halo has norm={halo.norm!r}, add_self_loops={halo.add_self_loops}")

    def __len__(self) -> int:
        return len(self.loader)

    def _make(self, batch: Any) -> Any:
        data = batch if self.passthrough else self.halo.expand(batch, self.data)
        return data if self.histories is None else pull_halo(data, self.histories)

    def __iter__(self) -> Iterator[Any]:
        if self.histories is None:
            return (self._make(b) for b in self.loader)
        return pipeline(iter(self.loader), lambda b: (self._make(b), None), lambda d, _: d, self.prefetch, True)
