"""``pyg-ibmb-node`` and ``pyg-ibmb-batch``: PyG's own port of the IBMB
loaders (``torch_geometric.loader.ibmb_loader``), for comparison with
ibmb's. They run with ``batch_order='rand'`` (PyG's 'order' and 'sample'
samplers fail under torch 2.11) and without precomputed edge weights."""
from __future__ import annotations

import math
from typing import Any, ClassVar, Iterator, Optional

from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows, Unavailable


class _PyGIBMB(BaseMethod):
    uses_edge_weight = False
    kind: ClassVar[str] = ""
    pyg_backends = ("WITH_TORCH_SPARSE",)
    pyg_missing = "PyG's IBMB loaders need torch-sparse (SparseTensor)"

    def build(self, mask: Any, train: bool = False) -> Any:
        try:
            from torch_geometric.loader import ibmb_loader as pyg
        except ImportError as e:  # pragma: no cover
            raise Unavailable(f"PyG's IBMB loaders cannot be imported: {e}") from e
        c = self.cfg
        idx = mask.nonzero().view(-1)
        try:
            if self.kind == "node":
                return pyg.IBMBNodeLoader(self.data, "rand", idx, c.num_auxiliary_nodes, c.num_nodes_per_batch,
                                          alpha=c.alpha, eps=c.eps, batch_size=1)
            from ibmb.train.methods.ibmb_batch import inference_count

            # Inference (validation too) is cut into as many parts as test needs, as ibmb-batch does.
            parts = (c.num_partitions if train and c.num_partitions else
                     max(1, math.ceil(inference_count(self.data, mask, train) / c.num_nodes_per_batch)))
            return pyg.IBMBBatchLoader(self.data, "rand", parts, idx, c.batch_expand_ratio, alpha=c.alpha,
                                       batch_size=1)
        except (ImportError, AttributeError, RuntimeError, TypeError) as e:
            raise Unavailable(f"PyG's IBMB {self.kind} loader failed to build: {type(e).__name__}: {e}") from e

    def prepare(self) -> str:
        self.loader = _WithIds(self.build(self.data.train_mask, train=True))
        return "PyG's port, batch_order='rand'"

    def train_batches(self) -> Any:
        return self.loader

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        rows = batch.output_node_mask
        return rows, batch.y[rows]

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        lo = _WithIds(self.build(mask))
        return InferenceBatches(lo, f"PyG's {self.kind}-wise", len(lo.loader))

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        rows = batch.output_node_mask
        return rows, batch.n_id[rows]


class _WithIds:
    """PyG's batches, in its sampler's order, with the node ids (``n_id``)
    they lack, recovered from the loader's (output, auxiliary) pairs."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __iter__(self) -> Iterator[Any]:
        import numpy as np
        import torch

        lo = self.loader
        pairs = getattr(lo, "node_wise_out_aux_pairs", None) or lo.batch_wise_out_aux_pairs
        for i in (list(iter(lo.sampler)) if lo.sampler is not None else range(len(pairs))):
            b = lo.dataset[i]
            b.n_id = torch.as_tensor(np.asarray(pairs[i][1]))
            yield b


class PyGIBMBNode(_PyGIBMB):
    name = "pyg-ibmb-node"
    kind = "node"
    validation_note = "val batches: only val nodes as outputs (sparser than test's)"


class PyGIBMBBatch(_PyGIBMB):
    name = "pyg-ibmb-batch"
    kind = "batch"
