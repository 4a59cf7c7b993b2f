"""Training and inference on several processes or machines with
``torch.distributed`` (issue 15): data-parallel training (DDP; gloo on CPU,
nccl on CUDA), batches built in shards, features sharded by node range and
fetched in macrobatches, and distributed inference.

Modules:

- :mod:`~ibmb.distributed.launch`: :func:`spawn` (``--nproc N`` ranks on
  this machine, the ``spawn`` start method: never ``fork``, the engine's Go
  runtime does not survive it), :func:`init_from_env` (``torchrun``),
  :class:`Context`, :class:`DistributedError`; process-group timeouts.
- :mod:`~ibmb.distributed.shard`: node ownership, each rank's share of the
  output nodes / batch-wise parts, equal steps per epoch.
- :mod:`~ibmb.distributed.features`: :class:`ShardedFeatures` (a rank's
  feature rows; one deduplicated ``all_to_all_single`` exchange per ``k``
  batches) and :func:`macrobatched`.
- :mod:`~ibmb.distributed.method`: :class:`DistributedMethod`, ``ibmb-node``
  / ``ibmb-batch`` for the ordinary training loop on every rank.
- :mod:`~ibmb.distributed.history`: :class:`ShardedHistory`, one history of
  historical embeddings shared by the ranks (rows by node range; pushes and
  pulls in one macrobatched exchange), :func:`macrobatched_history`.
- :mod:`~ibmb.distributed.hist_method`: :class:`DistributedHistMethod`,
  ``ibmb-node-hist`` / ``ibmb-batch-hist`` / ``gas`` over it.
- :mod:`~ibmb.distributed.jobs`: the ``ibmb train|bench --nproc N`` /
  ``torchrun -m ibmb`` entry point.

The submodules are imported on first use (this package imports no torch).
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"Context": "launch", "DistributedError": "launch", "spawn": "launch", "init_from_env": "launch",
         "shutdown": "launch", "current": "launch", "ShardedFeatures": "features", "macrobatched": "features",
         "Traffic": "features", "DistributedMethod": "method", "gather_predictions": "method", "wanted": "jobs",
         "start": "jobs", "run": "jobs", "active": "jobs", "ShardedHistory": "history",
         "macrobatched_history": "history", "HistTraffic": "history", "DistributedHistMethod": "hist_method",
         "stop": "launch"}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'ibmb.distributed' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ibmb.distributed.{mod}"), name)
