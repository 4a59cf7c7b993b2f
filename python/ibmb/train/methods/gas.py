"""``gas``: GNNAutoScale's own scheme (Fey et al., ICML 2021) as the
baseline of the history methods: the whole graph is partitioned into
clusters (ibmb's multilevel partitioner, METIS-like; GAS uses METIS), each
epoch the clusters are shuffled and grouped, ``max(1, parts // 10)`` per
batch (the ``cluster`` method's rule; ``--cluster-parts``, default
``nodes / 2000``), and every node of a batch is computed exactly, with its
halo from the histories. The loss is taken on the batch's training nodes;
every node's histories are refreshed every epoch. Evaluation: exact
layer-wise inference (see :mod:`~ibmb.train.methods.hist_common`)."""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Iterator

from ibmb.train.methods.base import Rows
from ibmb.train.methods.hist_common import HistMethod


class GAS(HistMethod):
    name = "gas"
    cache_halos = False  # its batches are new groups of clusters every epoch

    def base_loader(self) -> Any:
        import numpy as np

        from ibmb.batching import partition

        n = int(self.data.num_nodes)
        self.parts = min(n, self.cfg.cluster_parts or max(2, math.ceil(n / 2000)))
        self.per_batch = max(1, self.parts // 10)
        part = partition(self.data.edge_index, self.parts, num_nodes=n, seed=self.cfg.seed)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self.parts + 1))
        self.clusters = [order[bounds[i]:bounds[i + 1]] for i in range(self.parts) if bounds[i + 1] > bounds[i]]
        return _Clusters(self.clusters, self.per_batch, self.cfg.seed)

    def base_note(self) -> str:
        return f"{len(self.clusters)} clusters, {self.per_batch} per batch"

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        rows = self.data.train_mask[batch.n_id[:batch.num_exact].cpu()].nonzero().view(-1).to(batch.y.device)
        return rows, batch.y[rows]


class _Clusters:
    """Each iteration: the clusters in a new random order, ``per_batch`` at a
    time; a batch is their nodes (ascending ids), all of them exact."""

    def __init__(self, clusters: list, per_batch: int, seed: int) -> None:
        import torch

        self.clusters, self.per_batch = clusters, per_batch
        self.gen = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return math.ceil(len(self.clusters) / self.per_batch)

    def __iter__(self) -> Iterator[Any]:
        import numpy as np
        import torch

        perm = torch.randperm(len(self.clusters), generator=self.gen).tolist()
        for i in range(0, len(perm), self.per_batch):
            ids = np.sort(np.concatenate([self.clusters[j] for j in perm[i:i + self.per_batch]]))
            yield SimpleNamespace(n_id=torch.from_numpy(ids), batch_size=len(ids))
