"""``full``: full-batch training, the reference where the graph fits: every
epoch is one step over the whole graph (symmetrically normalized, with
self-loops), inference one forward pass."""
from __future__ import annotations

import copy
from typing import Any, Optional

from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows


class FullBatch(BaseMethod):
    name = "full"
    uses_edge_weight = True

    def prepare(self) -> str:
        full = self.whole_graph()
        self.train_idx = self.data.train_mask.nonzero().view(-1).to(self.device)
        return f"{full.num_edges:,} edges with self-loops"

    def whole_graph(self) -> Any:
        """The graph as one batch on the device, built on first use."""
        if getattr(self, "full", None) is not None:
            return self.full
        import numpy as np
        import torch
        from torch_geometric.data import Data
        from torch_geometric.utils import add_remaining_self_loops

        from ibmb.graph import CSRGraph

        d = self.data
        ei, _ = add_remaining_self_loops(d.edge_index, num_nodes=d.num_nodes)
        g = CSRGraph.from_edge_index(ei, d.num_nodes, drop_duplicates=True)
        full = Data(x=d.x, y=d.y, edge_index=torch.as_tensor(np.asarray(g.edge_index())),
                    edge_weight=torch.as_tensor(np.asarray(g.edge_weight("sym"))), num_nodes=d.num_nodes)
        self.full = full.to(self.device)
        return self.full

    def train_batches(self) -> list:
        return [self.full]

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        return self.train_idx, batch.y[self.train_idx]

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        b = copy.copy(self.whole_graph())  # shares the tensors
        b.out_idx = mask.nonzero().view(-1).to(self.device)
        return InferenceBatches([b], "the whole graph", 1)

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        return batch.out_idx, batch.out_idx
