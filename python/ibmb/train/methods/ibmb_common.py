"""What ``ibmb-node`` and ``ibmb-batch`` share: ibmb's loaders
(:class:`ibmb.IBMBNodeLoader`, :class:`ibmb.IBMBBatchLoader`) for training
and inference batches, batches saved and reloaded for inference, and the
batch layout (the ``batch_size`` output nodes come first)."""
from __future__ import annotations

import os
from typing import Any, ClassVar, Optional

from ibmb.train.config import Config
from ibmb.train.methods.base import BaseMethod, InferenceBatches, Rows

__all__ = ["IBMBMethod", "infer_outputs_per_batch"]


def infer_outputs_per_batch(cfg: Config, kind: str) -> int:
    """Output nodes per IBMB inference batch for ``kind`` "node" or "batch".

    Inference batches need no gradients and may differ from
    the training ones. Measured (benchmarks/RESULTS.md, 1024-output training
    batches): node-wise, 4096-output inference batches are ~3x slower than
    1024-output ones but more accurate (+0.3 points on an easy 200k-node
    graph, +5.8 on a hard 100k-node one: more of every auxiliary node's
    neighbourhood is in the batch); batch-wise, batches shaped like the
    training ones were 0.9 points more accurate (they keep the induced
    degrees, hence the normalisation, the model was trained with) and 3x
    faster. Hence: node-wise max(num_nodes_per_batch, 4096), batch-wise
    num_nodes_per_batch, unless infer_nodes_per_batch is set.
    """
    if cfg.infer_nodes_per_batch:
        return cfg.infer_nodes_per_batch
    return max(cfg.num_nodes_per_batch, 4096) if kind == "node" else cfg.num_nodes_per_batch


class IBMBMethod(BaseMethod):
    """IBMB batches from ibmb's loaders: normalized edge weights with
    self-loops, outputs first (``batch.batch_size`` of them)."""

    uses_edge_weight = True
    can_save_batches = True
    kind: ClassVar[str] = ""  # "node" or "batch": the arena's params["loader"]

    def build(self, mask: Any, order: Optional[str]) -> Any:
        """A loader over the nodes of ``mask``: training batches in
        ``order``, or inference batches (``order`` None)."""
        raise NotImplementedError

    def loader_class(self) -> Any:
        """ibmb's loader of this :attr:`kind`: :class:`ibmb.IBMBNodeLoader`
        or :class:`ibmb.IBMBBatchLoader`."""
        import ibmb

        return {"node": ibmb.IBMBNodeLoader, "batch": ibmb.IBMBBatchLoader}[self.kind]

    def common(self) -> dict:
        c = self.cfg
        return dict(alpha=c.alpha, eps=c.eps, norm="sym", add_self_loops=True, device=c.device, seed=c.seed,
                    progress=c.progress, batch_size=1)

    def prepare(self) -> str:
        self.loader = self.build(self.data.train_mask, self.cfg.batch_order)
        st = self.loader.stats()
        return (f"{st['num_batches']} batches, arena {st['arena_bytes'] / 2**20:.0f} MiB "
                f"(graph {st['graph_bytes'] / 2**20:.0f} MiB)")

    def train_batches(self) -> Any:
        return self.loader

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        n = int(batch.batch_size)
        return slice(0, n), batch.y[:n]

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        n = int(batch.batch_size)
        return slice(0, n), batch.n_id[:n]

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        what = f"{self.kind}-wise"
        if path is not None and os.path.exists(path):
            from ibmb.arena import Arena

            # The file's kind first (a mapping, no checksum pass): the reason names the model's method.
            saved = Arena.load(path, verify=False).params.get("loader", self.kind)
            if saved != self.kind:
                raise ValueError(f"{path} holds {saved}-wise batches, but the model was trained with "
                                 f"{self.name!r}: give another --batches file")
            loader = self.loader_class().load(path, self.data, batch_order=None, device=self.device)
            note = f"{what}, loaded {path}"
        else:
            loader = self.build(mask, None)
            note = f"{what}, built"
            if path is not None:
                loader.save(path)
                note += f", saved to {path}"
        return InferenceBatches(loader, note, loader.num_batches)
