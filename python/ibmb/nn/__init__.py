"""GNNs with historical embeddings (GNNAutoScale) on ibmb batches.

- :class:`HistoryGNN`: base class; a batch computes its first ``num_exact``
  nodes exactly, pulls its halo's hidden embeddings from an
  :class:`ibmb.HistoryStore` and pushes its fresh ones; exact layer-wise
  :meth:`~HistoryGNN.inference` over all nodes.
- :class:`GCN`, :class:`SAGE`, :class:`GAT`, :class:`APPNP`, :class:`GCNII`:
  models built from ``torch_geometric.nn`` layers.
- :class:`Halo`: one-hop halo of a node set with the full graph's edge
  weights (interim, in Python, until the loaders' arena stores halos);
  :class:`HaloLoader` expands a loader's batches with it.

Example:
    >>> import ibmb, ibmb.nn, torch.nn.functional as F
    >>> model = ibmb.nn.GCN(data.num_nodes, data.num_features, 16, 7)
    >>> halo = model.halo(data.edge_index)
    >>> loader = ibmb.nn.HaloLoader(ibmb.IBMBNodeLoader(data, "rand", data.train_mask, 16, 32), halo, data)
    >>> for b in loader:
    ...     out = model(b.x, b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=b.num_exact)
    ...     loss = F.cross_entropy(out[:b.batch_size], b.y[:b.batch_size])
    >>> pred = model.inference(data.x, halo).argmax(-1)   # exact; refreshes the histories

Importing this module imports ``torch_geometric.nn``.
"""
from __future__ import annotations

from ibmb.nn.base import HistoryGNN
from ibmb.nn.halo import Halo, HaloBatch, HaloLoader
from ibmb.nn.models import APPNP, GAT, GCN, GCNII, SAGE

__all__ = ["HistoryGNN", "Halo", "HaloBatch", "HaloLoader", "GCN", "SAGE", "GAT", "APPNP", "GCNII"]
