"""The :class:`Method` protocol every training method implements, the
:class:`BaseMethod` defaults most of them keep, and :data:`REGISTRY`, the one
place that names them.

A method owns its batches: how they are prepared from a graph (timed as
preprocessing), which batches an epoch of training sees, which rows of a
batch are trained on and what their labels are, how batches for inference
over a set of nodes are made (and, where supported, saved and reloaded), and
which rows of an inference batch are outputs and which nodes they are. The
training loop (:mod:`ibmb.train.loop`) knows nothing else about a method.

Batches are PyG ``Data`` objects with at least ``x`` ``[n, F]``,
``edge_index`` ``[2, m]`` and ``y`` ``[n]`` (``edge_weight`` ``[m]`` when
``uses_edge_weight``).
"""
from __future__ import annotations

import hashlib
import importlib
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator, Optional, Protocol, Union, runtime_checkable

from ibmb.train.config import Config

__all__ = ["Method", "BaseMethod", "InferenceBatches", "Unavailable", "REGISTRY", "names", "get", "create",
           "unavailable_reason", "INSTALL_HINT"]

# name -> "module:Class", the module relative to this package (".full") or absolute ("mypkg.mine"). Adding a
# method: one module beside this one and one line here.
REGISTRY: dict[str, str] = {
    "full": ".full:FullBatch",
    "ibmb-node": ".ibmb_node:IBMBNode",
    "ibmb-batch": ".ibmb_batch:IBMBBatch",
    "neighbor": ".neighbor:Neighbor",
    "cluster": ".cluster:Cluster",
    "pyg-ibmb-node": ".pyg_ibmb:PyGIBMBNode",
    "pyg-ibmb-batch": ".pyg_ibmb:PyGIBMBBatch",
    "ibmb-node-hist": ".ibmb_node_hist:IBMBNodeHist",
    "ibmb-batch-hist": ".ibmb_batch_hist:IBMBBatchHist",
    "gas": ".gas:GAS",
}

# How to get PyG's optional native backends (pyg-lib has no PyPI wheels; torch_sparse/torch_scatter only sdists).
INSTALL_HINT = ("install: `make deps` in the ibmb source tree (builds torch_scatter + torch_sparse with METIS once "
                "per machine into a wheel cache) or `bash benchmarks/install_pyg_metis.sh`")

Rows = Union[Any, slice]  # a [k] index tensor, a [n] bool mask or a slice of a batch's rows


class Unavailable(RuntimeError):
    """A method cannot run on this machine (a missing optional dependency);
    the message ends in how to install it."""


@dataclass
class InferenceBatches:
    """Batches whose outputs cover a set of nodes, re-iterable, and how they
    came about (``note``: e.g. "built", "loaded test.ibmb")."""

    batches: Iterable[Any]
    note: str = ""
    count: Optional[int] = None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.batches)


@runtime_checkable
class Method(Protocol):
    """A training method: built as ``cls(data, cfg)`` for one graph and one
    configuration; ``prepare`` runs once before the first epoch."""

    name: ClassVar[str]
    uses_edge_weight: ClassVar[bool]  # whether batches' edge_weight goes to the model
    can_save_batches: ClassVar[bool]  # whether inference_batches honours a path

    @classmethod
    def unavailable(cls) -> Optional[str]:
        """Why this method cannot run here (ending in how to install what it
        needs), or None."""

    def prepare(self) -> str:
        """Build the training batches (timed as preprocessing); returns a
        note for the table (e.g. batch count and sizes). Raises
        :class:`Unavailable` when a dependency fails only now."""

    def build_model(self, in_channels: int, num_classes: int) -> Any:
        """The model to train (``cfg.model``'s class by default)."""

    def train_batches(self) -> Iterable[Any]:
        """The batches of one training epoch."""

    def to_device(self, batch: Any) -> Any:
        """``batch`` on ``cfg.device``."""

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        """Rows of ``batch``'s output trained on, and their labels."""

    def train_step(self, model: Any, batch: Any, optimizer: Any) -> Optional[float]:
        """One optimizer step on ``batch``; its loss (None: nothing to train)."""

    def inference_batches(self, mask: Any, path: Optional[str] = None) -> InferenceBatches:
        """Batches whose outputs are exactly the nodes of ``[N]`` bool
        ``mask`` (each once). ``path``: load saved batches from there, or
        build and save them there (only where ``can_save_batches``)."""

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        """Rows of an inference batch that are outputs, and their node ids."""

    def predict(self, model: Any, batches: Iterable[Any]) -> tuple[Any, Any]:
        """``(node ids [k], predicted classes [k])`` over ``batches``."""


def mask_key(mask: Any) -> tuple:
    """A cache key naming exactly the nodes of a ``[N]`` bool mask."""
    idx = mask.nonzero().view(-1).cpu().numpy()
    return (len(idx), hashlib.sha1(idx.tobytes()).hexdigest())


class BaseMethod:
    """Defaults for :class:`Method`: the model of ``cfg.model``, a
    cross-entropy step over :meth:`targets` (unlabelled rows, ``y < 0``,
    skipped), batches moved with ``Data.to``, predictions by argmax over
    :meth:`outputs`, and a per-mask cache of inference batches."""

    name: ClassVar[str] = ""
    uses_edge_weight: ClassVar[bool] = False
    can_save_batches: ClassVar[bool] = False
    # PyG's optional native backends the method runs on: flags of torch_geometric.typing, any one of which will
    # do (none: it needs none), and what to say when all are missing (INSTALL_HINT is appended).
    pyg_backends: ClassVar[tuple[str, ...]] = ()
    pyg_missing: ClassVar[str] = ""

    def __init__(self, data: Any, cfg: Config) -> None:
        self.data, self.cfg = data, cfg
        self.device = cfg.device
        self._cache: dict = {}

    @classmethod
    def unavailable(cls) -> Optional[str]:
        if not cls.pyg_backends:
            return None
        import torch_geometric.typing as tgt

        if any(getattr(tgt, flag, False) for flag in cls.pyg_backends):
            return None
        return f"{cls.pyg_missing}; {INSTALL_HINT}"

    def prepare(self) -> str:
        raise NotImplementedError

    def build_model(self, in_channels: int, num_classes: int) -> Any:
        from ibmb.train.models import build_model

        c = self.cfg
        return build_model(c.model, in_channels, c.hidden, num_classes, c.layers, c.dropout)

    def train_batches(self) -> Iterable[Any]:
        raise NotImplementedError

    def to_device(self, batch: Any) -> Any:
        return batch if self.device == "cpu" else batch.to(self.device, non_blocking=True)

    def targets(self, batch: Any) -> tuple[Rows, Any]:
        raise NotImplementedError

    def forward(self, model: Any, batch: Any) -> Any:
        """Logits ``[n, C]`` of every node of ``batch``."""
        ew = batch.edge_weight if self.uses_edge_weight else None
        return model(batch.x, batch.edge_index, ew)

    def train_step(self, model: Any, batch: Any, optimizer: Any) -> Optional[float]:
        import torch.nn.functional as F

        rows, y = self.targets(batch)
        keep = y >= 0
        if not bool(keep.any()):
            return None
        optimizer.zero_grad()
        loss = F.cross_entropy(self.forward(model, batch)[rows][keep], y[keep])
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def inference_batches(self, mask: Any, path: Optional[str] = None) -> InferenceBatches:
        if path is not None and not self.can_save_batches:
            raise ValueError(f"method {self.name!r} has no saved batches (--batches is for ibmb-node and "
                             "ibmb-batch)")
        key = mask_key(mask)
        if path is None and key in self._cache:
            return self._cache[key]
        out = self.make_inference_batches(mask, path)
        if path is None:
            self._cache[key] = out
        return out

    def make_inference_batches(self, mask: Any, path: Optional[str]) -> InferenceBatches:
        """Uncached :meth:`inference_batches`."""
        raise NotImplementedError

    def outputs(self, batch: Any) -> tuple[Rows, Any]:
        raise NotImplementedError

    def predict(self, model: Any, batches: Iterable[Any]) -> tuple[Any, Any]:
        import torch

        ids, preds = [], []
        with torch.no_grad():
            for b in batches:
                b = self.to_device(b)
                rows, nid = self.outputs(b)
                ids.append(nid.cpu())
                preds.append(self.forward(model, b)[rows].argmax(-1).cpu())
        if not ids:
            return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
        return torch.cat(ids), torch.cat(preds)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), seconds)``."""
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def names() -> tuple[str, ...]:
    """Every registered method, in the registry's order."""
    return tuple(REGISTRY)


def get(name: str) -> type:
    """The class registered as ``name`` (ValueError naming the choices)."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(REGISTRY)}")
    module, cls = spec.split(":")
    return getattr(importlib.import_module(module, package="ibmb.train.methods"), cls)


def create(name: str, data: Any, cfg: Config) -> BaseMethod:
    """A new method ``name`` for ``data`` and ``cfg``; raises
    :class:`Unavailable` when it cannot run here."""
    cls = get(name)
    why = cls.unavailable()
    if why is not None:
        raise Unavailable(why)
    return cls(data, cfg)


def unavailable_reason(name: str) -> Optional[str]:
    """Why method ``name`` cannot run here, ending in how to install what it
    needs, or None when its dependencies import. (A torch_sparse built
    without METIS is only found out when ``cluster`` partitions.)"""
    return get(name).unavailable()
