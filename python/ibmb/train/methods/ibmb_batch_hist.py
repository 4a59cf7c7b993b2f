"""``ibmb-batch-hist``: batch-wise IBMB batches (``ibmb-batch``'s) plus their
one-hop halo and per-layer historical embeddings (see
:mod:`~ibmb.train.methods.hist_common`)."""
from __future__ import annotations

from typing import Any

from ibmb.train.methods.hist_common import HistMethod


class IBMBBatchHist(HistMethod):
    name = "ibmb-batch-hist"

    def base_loader(self) -> Any:
        from ibmb.train.methods.ibmb_batch import IBMBBatch

        self.inner = IBMBBatch(self.data, self.cfg)
        return self.inner.build(self.data.train_mask, self.cfg.batch_order)

    def base_note(self) -> str:
        return f"{self.base.num_batches} batch-wise batches"
