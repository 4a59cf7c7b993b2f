"""The GNNs every method trains: GCN, GraphSAGE and GAT stacks as
``torch.nn.Module`` classes, and :func:`build_model`, the factory the jobs
use (``Config.model`` names the class in :data:`MODELS`).

Every model is called as ``model(x, edge_index, edge_weight=None)`` with
``x`` ``[n, F]``, ``edge_index`` ``[2, m]`` and ``edge_weight`` ``[m]`` and
returns logits ``[n, C]``; ``uses_edge_weight`` says whether the weights a
batch carries are read.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

__all__ = ["GNN", "GCN", "SAGE", "GAT", "MODELS", "build_model"]


class GNN(torch.nn.Module):
    """A stack of ``layers`` graph convolutions ``in -> hidden -> ... -> out``
    with dropout before every layer and an activation between layers;
    subclasses choose the convolution (:meth:`conv`)."""

    uses_edge_weight = False
    activation = staticmethod(F.relu)

    def __init__(self, in_channels: int, hidden: int, out_channels: int, layers: int = 2,
                 dropout: float = 0.5) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        dims = [in_channels] + [hidden] * (layers - 1) + [out_channels]
        self.dropout = float(dropout)
        self.convs = torch.nn.ModuleList(self.conv(i, dims[i], dims[i + 1], i == layers - 1) for i in range(layers))

    def conv(self, i: int, cin: int, cout: int, last: bool) -> torch.nn.Module:
        """Layer ``i``: ``cin`` -> ``cout`` channels."""
        raise NotImplementedError

    def layer(self, conv: torch.nn.Module, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return conv(x, edge_index)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        """Logits ``[n, out_channels]`` of the ``n`` nodes of ``x``."""
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            x = self.layer(conv, x, edge_index, edge_weight)
            if i < len(self.convs) - 1:
                x = self.activation(x)
        return x


class GCN(GNN):
    """GCN (Kipf & Welling). Batches with precomputed normalized
    ``edge_weight`` (self-loops included) are used as they are
    (``GCNConv(normalize=False)``); without weights the batch is normalized
    here, with self-loops added."""

    uses_edge_weight = True

    def conv(self, i: int, cin: int, cout: int, last: bool) -> torch.nn.Module:
        return GCNConv(cin, cout, normalize=False)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        if edge_weight is None:
            edge_index, edge_weight = gcn_norm(edge_index, None, x.shape[0], add_self_loops=True)
        return super().forward(x, edge_index, edge_weight)

    def layer(self, conv: torch.nn.Module, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return conv(x, edge_index, edge_weight)


class SAGE(GNN):
    """GraphSAGE with mean aggregation (edge weights are not read)."""

    def conv(self, i: int, cin: int, cout: int, last: bool) -> torch.nn.Module:
        return SAGEConv(cin, cout)


class GAT(GNN):
    """GAT: 4 concatenated heads in the hidden layers, one at the output, ELU."""

    activation = staticmethod(F.elu)
    heads = 4

    def conv(self, i: int, cin: int, cout: int, last: bool) -> torch.nn.Module:
        return GATConv(cin if i == 0 else cin * self.heads, cout, heads=1 if last else self.heads,
                       concat=not last)


MODELS: dict[str, type[GNN]] = {"gcn": GCN, "sage": SAGE, "gat": GAT}


def build_model(kind: str, in_channels: int, hidden: int, out_channels: int, layers: int = 2,
                dropout: float = 0.5) -> GNN:
    """A new ``MODELS[kind]`` (``"gcn"``, ``"sage"`` or ``"gat"``)."""
    cls: Any = MODELS.get(str(kind).lower())
    if cls is None:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}, got {kind!r}")
    return cls(in_channels, hidden, out_channels, layers, dropout)
