"""``cluster``: PyG's ``ClusterLoader`` (Cluster-GCN): METIS parts, several
per batch; the parts are also the inference batches."""
from __future__ import annotations

import math
from typing import Any, Iterator, Optional

from ibmb.train.methods.base import INSTALL_HINT, BaseMethod, InferenceBatches, Rows, Unavailable


class Cluster(BaseMethod):
    name = "cluster"
    uses_edge_weight = False
    pyg_backends = ("WITH_METIS", "WITH_TORCH_SPARSE")
    pyg_missing = "PyG's ClusterLoader needs METIS from pyg-lib or torch-sparse"

    def prepare(self) -> str:
        from torch_geometric.loader import ClusterLoader

        self.partition()
        self.loader = ClusterLoader(self.clusters, batch_size=self.per_batch, shuffle=True)
        return f"{self.parts} METIS parts"

    def partition(self) -> None:
        """METIS parts (``self.clusters``), once."""
        if getattr(self, "clusters", None) is not None:
            return
        from torch_geometric.loader import ClusterData

        self.parts = self.cfg.cluster_parts or max(2, math.ceil(self.data.num_nodes / 2000))
        try:
            self.clusters = ClusterData(self.data, num_parts=self.parts, log=False)
        except (ImportError, RuntimeError, AttributeError) as e:
            raise Unavailable(f"PyG's ClusterLoader needs METIS (torch_sparse or pyg-lib built with it): "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}; {INSTALL_HINT}") from e
        self.per_batch = max(1, self.parts // 10)

    def train_batches(self) -> Any:
        return self.loader

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        rows = batch.train_mask.nonzero().view(-1)
        return rows, batch.y[rows]

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        self.partition()
        return InferenceBatches(_PartsInOrder(self, mask), "METIS parts", math.ceil(self.parts / self.per_batch))

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        return batch.out_mask, batch.n_id[batch.out_mask]


class _PartsInOrder:
    """The parts in order, ``per_batch`` at a time, each batch with its nodes'
    ids (``n_id``) and which of them are in ``mask`` (``out_mask``)."""

    def __init__(self, method: Cluster, mask: Any) -> None:
        self.m, self.mask = method, mask

    def __iter__(self) -> Iterator[Any]:
        import torch
        from torch_geometric.loader import ClusterLoader

        m = self.m
        part = m.clusters.partition
        for k, b in enumerate(ClusterLoader(m.clusters, batch_size=m.per_batch, shuffle=False)):
            # Batch k holds parts k*bs .. k*bs+bs-1, their (permuted) nodes in order.
            chunk = range(k * m.per_batch, min((k + 1) * m.per_batch, m.parts))
            gid = torch.cat([part.node_perm[int(part.partptr[q]):int(part.partptr[q + 1])] for q in chunk])
            b.n_id, b.out_mask = gid, self.mask[gid]
            yield b
