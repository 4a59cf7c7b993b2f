"""Training and inference jobs: IBMB loaders beside the baselines a PyG user
would pick instead (full batch, ``NeighborLoader``, ``ClusterLoader``, PyG's
own IBMB loaders), with the same model and hyperparameters.

Modules:

- :mod:`~ibmb.train.config`: :class:`Config` (hyperparameters) and
  :class:`DataSpec` (dataset), whose fields also define the command's flags.
- :mod:`~ibmb.train.models`: GCN, GraphSAGE and GAT (``nn.Module``) and
  :func:`build_model`.
- :mod:`~ibmb.train.methods`: one module per training method behind the
  :class:`~ibmb.train.methods.Method` protocol.
- :mod:`~ibmb.train.loop`: :func:`train_eval` (one method, one seed) and
  :func:`run` (methods x seeds).
- :mod:`~ibmb.train.measure`: :class:`Result`, :class:`PeakMemory`, timers,
  validation curves (time to the best validation accuracy).
- :mod:`~ibmb.train.report`: table, comparison with a baseline, plots, JSON.

Adding a training method is one new module and one registry line. The
methods are laid out that way (the history methods ``ibmb-node-hist``,
``ibmb-batch-hist`` and ``gas`` share ``hist_common.py``)::

    ibmb/train/methods/
        base.py         Method protocol, BaseMethod defaults, and REGISTRY:
                            "full": ".full:FullBatch",
                            "ibmb-node": ".ibmb_node:IBMBNode", ...
        full.py         FullBatch          ibmb_node.py   IBMBNode
        ibmb_batch.py   IBMBBatch          neighbor.py    Neighbor
        cluster.py      Cluster            pyg_ibmb.py    PyGIBMBNode, PyGIBMBBatch

A new method ``mine`` is ``methods/mine.py``::

    class Mine(BaseMethod):
        name = "mine"
        uses_edge_weight = True          # pass batch.edge_weight to the model
        def prepare(self) -> str: ...    # build training batches (timed); a note for the table
        def train_batches(self): ...     # one epoch's batches (PyG Data)
        def targets(self, batch): ...    # (rows trained on, their labels)
        def make_inference_batches(self, mask, path): ...   # InferenceBatches covering mask
        def outputs(self, batch): ...    # (output rows, their node ids)

plus ``"mine": ".mine:Mine"`` in ``REGISTRY`` (a module outside the package
is named absolutely: ``"mypkg.mine:Mine"``); ``ibmb train --method mine``
and ``ibmb bench --methods mine`` then run it. Methods that change the step
itself (e.g. historical embeddings) override ``build_model``,
``train_step``, ``forward`` or ``predict``.
"""
from __future__ import annotations

from typing import Any

from ibmb.train.config import Config, DataSpec, config_dict
from ibmb.train.methods import INSTALL_HINT, Unavailable, names, unavailable_reason
from ibmb.train.methods.ibmb_common import infer_outputs_per_batch

METHODS: tuple[str, ...] = names()

# Imported on first use: they import torch / torch_geometric.nn, which the command's option parsing does not need.
_LAZY = {"GNN": "models", "GCN": "models", "SAGE": "models", "GAT": "models", "MODELS": "models",
         "build_model": "models", "train_eval": "loop", "run": "loop", "evaluate": "loop",
         "seed_everything": "loop", "Result": "measure", "PeakMemory": "measure", "Stopwatch": "measure",
         "ValCurve": "measure", "table": "report", "comparison": "report", "plot": "report",
         "results_json": "report", "write_json": "report"}

__all__ = ["Config", "DataSpec", "METHODS", "INSTALL_HINT", "Unavailable", "unavailable_reason",
           "infer_outputs_per_batch", "config_dict", *_LAZY]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'ibmb.train' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"ibmb.train.{mod}"), name)
    globals()[name] = value
    return value
