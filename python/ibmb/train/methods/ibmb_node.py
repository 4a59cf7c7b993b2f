"""``ibmb-node``: node-wise IBMB (ibmb's :class:`ibmb.IBMBNodeLoader`): every
output node brings its ``num_auxiliary_nodes`` nodes of highest PPR; output
nodes sharing influential nodes are merged into batches."""
from __future__ import annotations

from typing import Any, Optional

from ibmb.train.methods.ibmb_common import IBMBMethod, infer_outputs_per_batch


class IBMBNode(IBMBMethod):
    name = "ibmb-node"
    kind = "node"
    validation_note = "val batches: only val nodes as outputs (sparser than test's)"

    def build(self, mask: Any, order: Optional[str]) -> Any:
        c = self.cfg
        npb = c.num_nodes_per_batch if order is not None else infer_outputs_per_batch(c, "node")
        return self.loader_class()(self.data, order, mask, c.num_auxiliary_nodes, npb, **self.common())
