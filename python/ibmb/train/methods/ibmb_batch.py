"""``ibmb-batch``: batch-wise IBMB (ibmb's :class:`ibmb.IBMBBatchLoader`): the
graph is partitioned, and each part's output nodes are joined by the nodes of
highest topic-sensitive PPR seeded by them."""
from __future__ import annotations

import math
from typing import Any, Optional

from ibmb.train.methods.ibmb_common import IBMBMethod, infer_outputs_per_batch


def inference_count(data: Any, mask: Any, train: bool) -> int:
    """Output count that sets the part count: the mask's for training; for
    inference the test set's whenever there is one, so that validation (a
    few thousand nodes, maybe a random subset) is cut by the same partition
    as test and its batches have the test batches' shape (each part's nodes
    plus ``ratio * N / parts`` auxiliary nodes). Sizing validation by its own
    count gave it a part or two holding most of the graph: a validation
    accuracy 20 points above what test then saw (issue 14, item 6)."""
    test = getattr(data, "test_mask", None)
    if train or test is None or not bool(test.any()):
        return int(mask.sum())
    return int(test.sum())


class IBMBBatch(IBMBMethod):
    name = "ibmb-batch"
    kind = "batch"

    def build(self, mask: Any, order: Optional[str]) -> Any:
        c = self.cfg
        train = order is not None
        npb = c.num_nodes_per_batch if train else infer_outputs_per_batch(c, "batch")
        parts = c.num_partitions if train and c.num_partitions else max(1, math.ceil(inference_count(self.data, mask,
                                                                                                  train) / npb))
        ratio = c.batch_expand_ratio if train or not c.infer_expand_ratio else c.infer_expand_ratio
        # The partition depends on the graph, the part count and the seed only: train and inference loaders with
        # the same part count share it (on a 1M-node graph that saves the partitioner's 90-160 s).
        key = ("partitions", parts, c.seed)
        loader = self.loader_class()(self.data, order, parts, mask, ratio, partitions=self._cache.get(key),
                                     **self.common())
        self._cache[key] = loader.partitions
        return loader
