"""PyTorch Geometric loaders for IBMB: drop-in replacements for PyG's
``torch_geometric.loader.ibmb_loader.IBMBNodeLoader`` and ``IBMBBatchLoader``.

Layout (PyG's split of sampler and loader):

- :mod:`ibmb.sampler`: which batches exist (``IBMBNodeSampler``,
  ``IBMBBatchSampler``).
- :mod:`ibmb.loader.node`, :mod:`ibmb.loader.batch`: the two loaders, real
  ``torch.utils.data.DataLoader`` subclasses over the batch arena
  (:mod:`ibmb.loader.base`), each with a ``load`` constructor for saved
  batches.
- :mod:`ibmb.loader._convert`: arena views -> ``Data``, and the edge values
  (``norm``: PyG's full-graph ``"graph-rw"`` by default).
- :mod:`ibmb.loader.prefetch`: the CUDA prefetch pipeline;
  :mod:`ibmb.loader.merge`: merged batches (``batch_size > 1``).

Iteration always stays in the main process: forking a process that runs the
Go runtime can hang, so ``num_workers > 0`` is accepted for compatibility
but replaced by the prefetch thread (with a warning).
"""
from __future__ import annotations

from ibmb.loader.base import IBMBLoader
from ibmb.loader.batch import IBMBBatchLoader
from ibmb.loader.node import IBMBNodeLoader

__all__ = ["IBMBLoader", "IBMBNodeLoader", "IBMBBatchLoader"]
