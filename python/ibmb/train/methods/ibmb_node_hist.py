"""``ibmb-node-hist``: node-wise IBMB batches (``ibmb-node``'s) plus their
one-hop halo and per-layer historical embeddings (see
:mod:`~ibmb.train.methods.hist_common`)."""
from __future__ import annotations

from typing import Any

from ibmb.train.methods.hist_common import HistMethod


class IBMBNodeHist(HistMethod):
    name = "ibmb-node-hist"

    def base_loader(self) -> Any:
        from ibmb.train.methods.ibmb_node import IBMBNode

        self.inner = IBMBNode(self.data, self.cfg)
        return self.inner.build(self.data.train_mask, self.cfg.batch_order)

    def base_note(self) -> str:
        return f"{self.base.num_batches} node-wise batches"
