"""GNNs with historical embeddings (GNNAutoScale) on ibmb batches.

- :class:`HistoryGNN`: base class; a batch computes its first ``num_exact``
  nodes exactly, pulls its halo's hidden embeddings from an
  :class:`ibmb.HistoryStore` and pushes its fresh ones; exact layer-wise
  :meth:`~HistoryGNN.inference` over all nodes.
- :class:`GCN`, :class:`SAGE`, :class:`GAT`, :class:`APPNP`, :class:`GCNII`:
  models built from ``torch_geometric.nn`` layers.
- :class:`Halo`: one-hop halo of a node set with the full graph's edge
  weights, computed by the engine; the loaders store halo batches in their
  arena with ``halo=`` (zero-copy views, saved with the batches), and
  :class:`HaloLoader` passes those through or expands other loaders'
  batches, optionally pulling the halo rows ahead on a prefetch thread.

Example:
    >>> import ibmb, ibmb.nn, torch.nn.functional as F
    >>> model = ibmb.nn.GCN(data.num_nodes, data.num_features, 16, 7)
    >>> halo = model.halo(data.edge_index)
    >>> loader = ibmb.IBMBNodeLoader(data, "rand", data.train_mask, 16, 32, halo=halo)
    >>> for b in ibmb.nn.HaloLoader(loader, halo, data, histories=model.histories):
    ...     out = model(b.x, b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=b.num_exact,
    ...                 halo_rows=b.halo_rows)   # pulled ahead; leave out to pull here
    ...     loss = F.cross_entropy(out[:b.batch_size], b.y[:b.batch_size])
    >>> pred = model.inference(data.x, halo).argmax(-1)   # exact; refreshes the histories

Importing this module imports ``torch_geometric.nn``.
"""
from __future__ import annotations

from ibmb.nn.base import HistoryGNN
from ibmb.nn.halo import Halo, HaloBatch, HaloLoader
from ibmb.nn.models import APPNP, GAT, GCN, GCNII, SAGE

__all__ = ["HistoryGNN", "Halo", "HaloBatch", "HaloLoader", "GCN", "SAGE", "GAT", "APPNP", "GCNII"]
