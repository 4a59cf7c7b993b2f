"""``ibmb-batch-hist``: batch-wise IBMB batches (``ibmb-batch``'s) plus their
one-hop halo and per-layer historical embeddings (see
:mod:`~ibmb.train.methods.hist_common`)."""
from __future__ import annotations

from ibmb.train.methods.hist_common import HistMethod


class IBMBBatchHist(HistMethod):
    name = "ibmb-batch-hist"
    inner_method = ".ibmb_batch:IBMBBatch"
    batches_word = "batch-wise batches"
