"""``ibmb-node-hist``: node-wise IBMB batches (``ibmb-node``'s) plus their
one-hop halo and per-layer historical embeddings (see
:mod:`~ibmb.train.methods.hist_common`)."""
from __future__ import annotations

from ibmb.train.methods.hist_common import HistMethod


class IBMBNodeHist(HistMethod):
    name = "ibmb-node-hist"
    inner_method = ".ibmb_node:IBMBNode"
    batches_word = "node-wise batches"
