"""GCN, GraphSAGE, GAT, APPNP and GCNII with historical embeddings.

Each model is built from ``torch_geometric.nn`` layers and computes the same
function as its plain PyG counterpart on the full graph; on a batch with a
halo its hidden layers push and pull (:class:`~ibmb.nn.base.HistoryGNN`).
GCN-type models (GCN, APPNP, GCNII) take the full graph's normalized edge
weights (``normalize=False`` in PyG terms) from the :class:`~ibmb.nn.Halo`,
so that an exact node sees the weights it has in the full graph.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch.nn import Linear, ModuleList
from torch_geometric.nn import GATConv, GCN2Conv, GCNConv, SAGEConv

from ibmb._arrays import as_int
from ibmb.nn.base import HistoryGNN

__all__ = ["GCN", "SAGE", "GAT", "APPNP", "GCNII"]


def _need_weight(model: Any, edge_weight: Any) -> None:
    if edge_weight is None:
        raise ValueError(f"{type(model).__name__} needs edge_weight in the full graph's gcn normalization "
                         "(Halo(..., add_self_loops=True, norm='sym'): halo.full() or the batch's)")


class GCN(HistoryGNN):
    """GCN (Kipf & Welling): ``num_layers`` ``GCNConv(normalize=False)``,
    ReLU and dropout between them; histories of width ``hidden_channels``.

    ``aggregated_input=True``: the model is fed ``Â·X`` (BatchGNN's cached
    aggregated features, :func:`ibmb.features.aggregate` with the graph's
    self-loops and ``norm="sym"``) and its first layer is
    ``dropout(Â·X)·W + b`` on the exact rows: exact over the whole graph,
    without edges or halo rows (dropout then acts on ``Â·X`` instead of
    ``X``: the same function in eval mode, another regularizer in training).
    """

    def __init__(self, num_nodes: int, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, dropout: float = 0.5, aggregated_input: bool = False, **kwargs: Any) -> None:
        num_layers = as_int(num_layers, "num_layers", min=1)
        super().__init__(num_nodes, [hidden_channels] * (num_layers - 1), **kwargs)
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = ModuleList(GCNConv(a, b, normalize=False) for a, b in zip(dims[:-1], dims[1:]))
        self.dropout = float(dropout)
        self.aggregated_input = bool(aggregated_input)

    def forward_aggregated(self, h: torch.Tensor, state: dict) -> torch.Tensor:
        conv = self.convs[0]
        h = conv.lin(F.dropout(h, self.dropout, self.training))
        if conv.bias is not None:
            h = h + conv.bias
        return h if self.num_layers == 1 else h.relu()

    def forward_layer(self, layer: int, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: Optional[torch.Tensor],
                      state: dict) -> torch.Tensor:
        _need_weight(self, edge_weight)
        h = F.dropout(h, self.dropout, self.training)
        h = self.convs[layer](h, edge_index, edge_weight)
        return h if layer == self.num_layers - 1 else h.relu()


class SAGE(HistoryGNN):
    """GraphSAGE (mean aggregation): ``num_layers`` ``SAGEConv``, ReLU and
    dropout between them; takes the graph without self-loops or weights."""

    add_self_loops = False
    norm = "none"

    def __init__(self, num_nodes: int, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, dropout: float = 0.5, **kwargs: Any) -> None:
        num_layers = as_int(num_layers, "num_layers", min=1)
        super().__init__(num_nodes, [hidden_channels] * (num_layers - 1), **kwargs)
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = ModuleList(SAGEConv(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.dropout = float(dropout)

    def forward_layer(self, layer: int, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: Optional[torch.Tensor],
                      state: dict) -> torch.Tensor:
        h = F.dropout(h, self.dropout, self.training)
        h = self.convs[layer](h, edge_index)
        return h if layer == self.num_layers - 1 else h.relu()


class GAT(HistoryGNN):
    """GAT: hidden ``GATConv`` layers with ``heads`` concatenated heads and
    ELU (histories of width ``heads * hidden_channels``), an averaging
    output layer; self-loops are added by the layers themselves."""

    add_self_loops = False
    norm = "none"

    def __init__(self, num_nodes: int, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, heads: int = 8, dropout: float = 0.6, **kwargs: Any) -> None:
        num_layers = as_int(num_layers, "num_layers", min=1)
        heads = as_int(heads, "heads", min=1)
        super().__init__(num_nodes, [heads * hidden_channels] * (num_layers - 1), **kwargs)
        self.convs = ModuleList()
        cin = in_channels
        for _ in range(num_layers - 1):
            self.convs.append(GATConv(cin, hidden_channels, heads=heads, dropout=dropout))
            cin = heads * hidden_channels
        self.convs.append(GATConv(cin, out_channels, heads=1, concat=False, dropout=dropout))
        self.dropout = float(dropout)

    def forward_layer(self, layer: int, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: Optional[torch.Tensor],
                      state: dict) -> torch.Tensor:
        h = F.dropout(h, self.dropout, self.training)
        h = self.convs[layer](h, edge_index)
        return h if layer == self.num_layers - 1 else F.elu(h)


def _propagate(h: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
    """``Â·h``: ``out[t] = sum over edges s -> t of w * h[s]``."""
    msg = h.index_select(0, edge_index[0]) * edge_weight.to(h.dtype).unsqueeze(-1)
    return torch.zeros_like(h).index_add_(0, edge_index[1], msg)


class APPNP(HistoryGNN):
    """APPNP (Gasteiger et al.): an MLP (``Linear``, ReLU, ``Linear``) gives
    ``x0``, then ``K`` steps ``h = (1 - alpha) Â h + alpha x0``; each step is
    a layer (histories of width ``out_channels`` between steps)."""

    def __init__(self, num_nodes: int, in_channels: int, hidden_channels: int, out_channels: int, K: int = 10,
                 alpha: float = 0.1, dropout: float = 0.5, **kwargs: Any) -> None:
        K = as_int(K, "K", min=1)
        super().__init__(num_nodes, [out_channels] * (K - 1), **kwargs)
        self.lins = ModuleList([Linear(in_channels, hidden_channels), Linear(hidden_channels, out_channels)])
        self.alpha, self.dropout = float(alpha), float(dropout)

    def forward_layer(self, layer: int, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: Optional[torch.Tensor],
                      state: dict) -> torch.Tensor:
        _need_weight(self, edge_weight)
        if layer == 0:
            h = F.dropout(h, self.dropout, self.training)
            h = self.lins[0](h).relu()
            h = F.dropout(h, self.dropout, self.training)
            h = state["x0"] = self.lins[1](h)
        return (1 - self.alpha) * _propagate(h, edge_index, edge_weight) + self.alpha * state["x0"]


class GCNII(HistoryGNN):
    """GCNII (Chen et al. 2020): ``Linear`` + ReLU gives ``x0``, then
    ``num_layers`` ``GCN2Conv(alpha, theta, normalize=False)`` with ReLU
    (histories of width ``hidden_channels``), then a ``Linear`` output."""

    def __init__(self, num_nodes: int, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 16, alpha: float = 0.1, theta: float = 0.5, dropout: float = 0.6,
                 shared_weights: bool = True, **kwargs: Any) -> None:
        num_layers = as_int(num_layers, "num_layers", min=1)
        super().__init__(num_nodes, [hidden_channels] * (num_layers - 1), **kwargs)
        self.lins = ModuleList([Linear(in_channels, hidden_channels), Linear(hidden_channels, out_channels)])
        self.convs = ModuleList(GCN2Conv(hidden_channels, alpha, theta, layer=i + 1, shared_weights=shared_weights,
                                         normalize=False) for i in range(num_layers))
        self.dropout = float(dropout)

    def forward_layer(self, layer: int, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: Optional[torch.Tensor],
                      state: dict) -> torch.Tensor:
        _need_weight(self, edge_weight)
        if layer == 0:
            h = F.dropout(h, self.dropout, self.training)
            h = state["x0"] = self.lins[0](h).relu()
        h = F.dropout(h, self.dropout, self.training)
        h = self.convs[layer](h, state["x0"], edge_index, edge_weight).relu()
        if layer == self.num_layers - 1:
            h = F.dropout(h, self.dropout, self.training)
            h = self.lins[1](h)
        return h
