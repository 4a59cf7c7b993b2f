"""``ibmb-batch``: batch-wise IBMB (ibmb's :class:`ibmb.IBMBBatchLoader`): the
graph is partitioned, and each part's output nodes are joined by the nodes of
highest topic-sensitive PPR seeded by them."""
from __future__ import annotations

import math
from typing import Any, Optional

from ibmb.train.methods.ibmb_common import IBMBMethod, infer_outputs_per_batch


class IBMBBatch(IBMBMethod):
    name = "ibmb-batch"
    kind = "batch"

    def build(self, mask: Any, order: Optional[str]) -> Any:
        c = self.cfg
        train = order is not None
        npb = c.num_nodes_per_batch if train else infer_outputs_per_batch(c, "batch")
        parts = c.num_partitions if train and c.num_partitions else max(1, math.ceil(int(mask.sum()) / npb))
        ratio = c.batch_expand_ratio if train or not c.infer_expand_ratio else c.infer_expand_ratio
        # The partition depends on the graph, the part count and the seed only: train and inference loaders with
        # the same part count share it (on a 1M-node graph that saves the partitioner's 90-160 s).
        key = ("partitions", parts, c.seed)
        loader = self.loader_class()(self.data, order, parts, mask, ratio, partitions=self._cache.get(key),
                                     **self.common())
        self._cache[key] = loader.partitions
        return loader
