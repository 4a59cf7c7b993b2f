"""Pieces of the loaders' iteration: the device check, page-locking an
arena for CUDA copies, and merged batches (``batch_size > 1``).

Merged batches are built by the engine's step inducer into fresh numpy
arrays per step: no arena per step, and the same layout, ids and weights as
an arena built of the union of the merged batches' nodes.
"""
from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from ibmb import _native
from ibmb._arrays import is_tensor, ptr
from ibmb._native import EngineError, Handle, UnavailableError, call, engine
from ibmb.batching import Arena, ArenaBatch
from ibmb.graph import CSRGraph

__all__ = ["torch_device", "HostRegistration", "StepMerger"]


def torch_device(device: Any) -> Any:
    """``device`` as a torch.device; a CUDA device must be usable here."""
    import torch

    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"unsupported device {device!r}: use 'cpu', 'cuda' or 'cuda:N' ({e})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UnavailableError(f"device={str(device)!r} needs a CUDA GPU, but torch.cuda.is_available() is False "
                                   "(no GPU, no driver, or a CPU-only torch build)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UnavailableError(f"device={str(device)!r}: torch sees only {torch.cuda.device_count()} CUDA "
                                   "device(s)")
    elif dev.type != "cpu":
        raise ValueError(f"unsupported device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")
    return dev


def _unregister(address: int, owner: Handle) -> None:
    """Undo cudaHostRegister of ``address``. ``owner`` (the arena memory's
    Handle) is held until then, so the memory is unmapped only afterwards."""
    if _native._forked:  # no CUDA (nor engine) in a forked child; the memory goes with the process
        return
    try:
        import torch

        torch.cuda.synchronize()  # no copy from the pages may still be in flight
        torch.cuda.cudart().cudaHostUnregister(address)
    except Exception:  # pragma: no cover - depends on the CUDA runtime
        pass
    del owner


class HostRegistration:
    """Page-locks an arena (cudaHostRegister) so host-to-device copies need no
    staging, and unregisters it when this object goes, before the arena's
    memory can be freed (the finalizer holds the memory's Handle)."""

    def __init__(self, arena: Arena) -> None:
        import torch

        self.ok = False
        if arena.nbytes == 0:
            return
        try:
            err = torch.cuda.cudart().cudaHostRegister(arena.address, arena.nbytes, 0)
            self.ok = int(getattr(err, "value", err)) == 0
        except Exception:  # pragma: no cover - depends on the CUDA runtime
            self.ok = False
        if self.ok:
            weakref.finalize(self, _unregister, arena.address, arena._owner).atexit = False


class StepMerger:
    """Merges arena batches into one over the full graph ``graph`` with edge
    weights normalized by ``norm``; ``labels`` (``[N]``, or None) give the
    merged batch's ``y``. Owns the engine's step inducer (a map of ``N``
    int32 reused across steps)."""

    def __init__(self, graph: CSRGraph, norm: str, labels: Optional[np.ndarray]) -> None:
        self._step = Handle(call(engine.StepInducerNew, graph._handle(), norm))
        deg = graph.degree()
        self._degree = np.asarray(deg.numpy() if is_tensor(deg) else deg)  # [N] out-degrees: edge count bound
        self._labels = labels

    def merge(self, views: list[ArenaBatch]) -> ArenaBatch:
        """One batch of the union of ``views``' nodes over the full graph,
        laid out like an arena batch: the outputs first (ascending), then the
        other nodes (ascending), the induced subgraph normalized within it."""
        out = np.unique(np.concatenate([v.n_id[:v.batch_size] for v in views]))
        nodes = np.unique(np.concatenate([v.n_id for v in views]))
        n_id = np.concatenate([out, nodes[~np.isin(nodes, out, assume_unique=True)]])
        # Capacity: the members' edges plus room for cross edges, at most the
        # out-degree sum (an exact bound); the engine reports a larger count
        # without writing, and is then asked again with that room.
        bound = int(self._degree[n_id].sum())
        cap = min(bound, 2 * sum(v.edge_weight.shape[0] for v in views) + 4 * n_id.shape[0])
        for _ in range(2):
            edges, weight = np.empty(2 * cap, np.int64), np.empty(cap, np.float32)
            m = int(call(engine.StepInducerRun, self._step.value, ptr(n_id, np.int64, None, "n_id"), n_id.shape[0],
                         ptr(edges, np.int64, 2 * cap, "edges", True), ptr(weight, np.float32, cap, "weight", True),
                         cap))
            if m <= cap:
                break
            cap = m
        else:  # pragma: no cover - the second call has room for every edge
            raise EngineError(f"merged batch: {m} edges do not fit the {cap} reported")
        mask = np.zeros(n_id.shape[0], np.bool_)
        mask[:out.shape[0]] = True
        y = None if self._labels is None else self._labels[n_id]
        return ArenaBatch(n_id=n_id, output_mask=mask, edge_index=edges[:2 * m].reshape(2, m), edge_weight=weight[:m],
                          y=y, x=None, batch_size=int(out.shape[0]))
