"""``neighbor``: PyG's ``NeighborLoader``, the baseline a PyG user picks:
``num_neighbors`` sampled neighbours per node and layer for training, the
full neighbourhood for inference (exact, no sampling noise)."""
from __future__ import annotations

from typing import Any, Optional

from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows


class Neighbor(BaseMethod):
    name = "neighbor"
    uses_edge_weight = False  # GCN normalizes each sampled subgraph itself
    pyg_backends = ("WITH_PYG_LIB", "WITH_TORCH_SPARSE")
    pyg_missing = "PyG's NeighborLoader needs pyg-lib or torch-sparse"

    def prepare(self) -> str:
        from torch_geometric.loader import NeighborLoader

        c = self.cfg
        self.loader = NeighborLoader(self.data, num_neighbors=[c.num_neighbors] * c.layers,
                                     input_nodes=self.data.train_mask, batch_size=c.batch_size, shuffle=True)
        return f"train fanout {c.num_neighbors}, full-neighbourhood inference"

    def train_batches(self) -> Any:
        return self.loader

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        n = int(batch.batch_size)
        return slice(0, n), batch.y[:n]

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        from torch_geometric.loader import NeighborLoader

        c = self.cfg
        lo = NeighborLoader(self.data, num_neighbors=[-1] * c.layers, input_nodes=mask,
                            batch_size=max(c.batch_size, 1024), shuffle=False)
        return InferenceBatches(lo, "full neighbourhood", len(lo))

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        n = int(batch.batch_size)
        return slice(0, n), batch.n_id[:n]
