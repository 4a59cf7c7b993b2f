"""Arena batch views -> PyG ``Data``, and which edge values batches carry.

Edge values (the loaders' ``norm``):

- ``"graph-rw"`` (default): the full graph's random-walk normalized adjacency
  ``D^-1 A`` restricted to the batch: edge ``u -> v`` weighs ``1 / deg(u)``
  with ``deg`` counted in the whole graph, so a batch row sums to at most 1.
  These are the values of PyG's ``IBMBNodeLoader``/``IBMBBatchLoader``
  SparseTensor (``return_edge_index_type="adj"``); with ``"edge_index"``
  PyG gives no weights, ibmb gives the same values as ``edge_weight``.
- ``"graph-sym"``: the full graph's ``D^-1/2 A D^-1/2`` restricted to the batch.
- ``"sym"``, ``"rw"``, ``"none"``: normalized within the batch (degrees
  counted inside it; ``"none"``: all ones). ``"sym"`` with self-loops is what
  a GCN with ``normalize=False`` expects (ibmb's training jobs use it).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ibmb.arena import ArenaBatch
from ibmb.graph import CSRGraph
from ibmb.loader._source import torch_and_data
from ibmb.ops import gather

__all__ = ["NORMS", "arena_graph", "Converter"]

NORMS = ("graph-rw", "graph-sym", "sym", "rw", "none")


def arena_graph(graph: CSRGraph, norm: str) -> tuple[CSRGraph, str]:
    """``(graph to materialize batches over, in-batch norm)`` for the edge
    values ``norm``: a full-graph norm becomes weights on the graph and no
    in-batch normalization."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}, got {norm!r}")
    if norm.startswith("graph-"):
        return graph.reweighted(norm[len("graph-"):]), "none"
    return graph, norm


def _float_dtypes(torch: Any) -> tuple:
    return (torch.float32, torch.float16, torch.bfloat16)


class Converter:
    """Turns an :class:`~ibmb.arena.ArenaBatch` into a ``Data`` with ``x``,
    ``y``, ``edge_index`` (or a SparseTensor), ``edge_weight``,
    ``output_node_mask``, ``n_id`` and ``batch_size``.

    ``x``/``y`` are the full graph's tensors: rows missing from a view are
    gathered by ``n_id``. Learnable features (``x.requires_grad``) are left
    out here and filled in by :meth:`ready` in the consumer's thread.
    """

    def __init__(self, x: Any, y: Any, return_edge_index_type: str) -> None:
        self.x, self.y = x, y
        self.sparse = return_edge_index_type == "adj"
        if self.sparse:
            try:
                import torch_sparse  # noqa: F401
            except ImportError as e:
                raise ImportError("return_edge_index_type='adj' needs torch_sparse (SparseTensor); install it or "
                                  "use 'edge_index'") from e

    @property
    def x_requires_grad(self) -> bool:
        return self.x is not None and self.x.requires_grad

    def gather_x(self, n_id: Any) -> Any:
        """Rows ``n_id`` of the full feature matrix (with autograd)."""
        torch, _ = torch_and_data()
        if self.x.dtype in _float_dtypes(torch) and self.x.is_contiguous():
            return gather(self.x, n_id.to(self.x.device))
        return self.x.index_select(0, n_id.to(self.x.device))

    def to_data(self, v: ArenaBatch) -> Any:
        """The ``Data`` of view ``v`` (zero-copy where the view has the rows)."""
        torch, Data = torch_and_data()
        n_id = torch.from_numpy(v.n_id)
        x: Optional[Any] = None
        if self.x_requires_grad:
            x = None  # gathered with autograd by ready(), after the last optimizer step
        elif v.x is not None:
            if v.x.dtype.name == "bfloat16":
                x = torch.from_numpy(v.x.view(np.int16)).view(torch.bfloat16)
            else:
                x = torch.from_numpy(v.x)
        elif self.x is not None:
            x = self.gather_x(n_id)
        if self.y is not None and (v.y is None or self.y.dim() != 1):
            y = self.y.index_select(0, n_id.to(self.y.device))
        elif v.y is not None:
            y = torch.from_numpy(v.y)
        else:
            y = None
        edge_index = torch.from_numpy(v.edge_index)
        edge_weight = torch.from_numpy(v.edge_weight)
        n = int(v.n_id.shape[0])
        if self.sparse:
            from torch_sparse import SparseTensor

            edge_index = SparseTensor(row=edge_index[0], col=edge_index[1], value=edge_weight, sparse_sizes=(n, n),
                                      is_sorted=True, trust_data=True)
        data = Data(edge_index=edge_index, edge_weight=edge_weight, output_node_mask=torch.from_numpy(v.output_mask),
                    n_id=n_id, num_nodes=n)
        if x is not None:
            data.x = x
        if y is not None:
            data.y = y
        data.batch_size = int(v.batch_size)
        if v.num_exact is not None:  # a halo batch: rows [num_exact:] are the halo
            data.num_exact = int(v.num_exact)
        return data

    def ready(self, data: Any, device: Any) -> Any:
        """Fills in learnable features (in the caller's thread and grad mode,
        from the current parameters, so the batch carries the graph)."""
        if self.x_requires_grad:
            data.x = self.gather_x(data.n_id).to(device)
        return data
