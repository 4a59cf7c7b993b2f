"""The settings of a training run and of the built-in dataset, each field
declared once: its default, its type check, its command-line flag and its
help text all live in the field's metadata, and :func:`add_flags` /
:func:`from_args` generate the ``ibmb`` command's options from it (so a new
setting is one new field, with no hand mapping in the CLI).
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from ibmb._argtypes import (device_name, dropout_rate, float_type, nonneg_float, nonneg_int, open_unit,
                            positive_float, positive_int, probability, seed_int)
from ibmb.datasets import HOMOPHILY, SEPARATION

__all__ = ["Config", "DataSpec", "flag", "add_flags", "from_args", "config_dict"]


def flag(default: Any, name: str, help: str, type: Optional[Callable[[str], Any]] = None,
         choices: Optional[Sequence[str]] = None, **argparse_kwargs: Any) -> Any:
    """A dataclass field whose metadata describes its command-line option.

    ``name`` is the flag (``"--aux"``), ``type`` the argparse validator from
    :mod:`ibmb._argtypes`, ``choices`` the allowed values; ``help`` gets
    " (default: ...)" appended. Extra keywords go to ``add_argument``
    (e.g. ``action="store_const", const=False``).
    """
    meta = {"flag": name, "help": help, "type": type, "choices": tuple(choices) if choices else None,
            "kwargs": argparse_kwargs}
    return field(default=default, metadata=meta)


def internal(default: Any) -> Any:
    """A field with no command-line option (set by the jobs themselves)."""
    return field(default=default, metadata={"flag": None})


@dataclass
class Config:
    """Hyperparameters shared by every method of a run (one model, one
    optimizer, the same batching parameters for IBMB and the baselines)."""

    model: str = flag("gcn", "--model", "GNN", choices=("gcn", "sage", "gat"))
    hidden: int = flag(64, "--hidden", "hidden width", positive_int)
    layers: int = flag(2, "--layers", "layers", positive_int)
    dropout: float = flag(0.5, "--dropout", "dropout", dropout_rate)
    lr: float = flag(0.01, "--lr", "Adam learning rate", positive_float)
    weight_decay: float = flag(5e-4, "--weight-decay", "weight decay", nonneg_float)
    epochs: int = flag(200, "--epochs", "max epochs", positive_int)
    patience: int = flag(50, "--patience", "early stopping patience in epochs (on validation accuracy)", positive_int)
    lr_patience: int = flag(20, "--lr-patience", "epochs without a better validation accuracy before the learning "
                                                 "rate is reduced", positive_int)
    lr_factor: float = flag(0.5, "--lr-factor", "learning rate reduction factor", open_unit)
    eval_every: int = flag(1, "--eval-every", "validate every n epochs", positive_int)
    val_nodes: int = flag(0, "--val-nodes", "validate on at most this many random validation nodes (0: all)",
                          nonneg_int)
    # IBMB
    alpha: float = flag(0.25, "--alpha", "PPR teleport", open_unit)
    eps: float = flag(2e-4, "--eps", "PPR push threshold", positive_float)
    num_auxiliary_nodes: int = flag(16, "--aux", "node-wise: auxiliary nodes per output node", positive_int)
    num_nodes_per_batch: int = flag(256, "--outputs-per-batch", "output nodes per batch", positive_int)
    infer_nodes_per_batch: int = flag(0, "--infer-outputs-per-batch",
                                      "output nodes per inference batch (0: node-wise max(outputs-per-batch, 4096), "
                                      "batch-wise outputs-per-batch)", nonneg_int)
    num_partitions: int = flag(0, "--partitions", "batch-wise: partitions (0: outputs / outputs-per-batch)",
                               nonneg_int)
    batch_expand_ratio: float = flag(1.0, "--expand-ratio", "batch-wise: auxiliary nodes per batch = ratio * nodes / "
                                                            "partitions", positive_float)
    infer_expand_ratio: float = flag(0.0, "--infer-expand-ratio",
                                     "batch-wise: expand ratio of the inference batches (0: --expand-ratio)",
                                     nonneg_float)
    batch_order: str = flag("order", "--batch-order", "IBMB batch order", choices=("order", "sample", "rand"))
    # Historical embeddings (ibmb-node-hist, ibmb-batch-hist, gas)
    agg_features: bool = flag(False, "--agg-features", "history methods: feed the cached aggregated features Â·X to "
                                                       "the first layer (exact over the whole graph; gcn only)",
                              action="store_true")
    history_momentum: float = flag(1.0, "--history-momentum",
                                   "history methods, experimental (no gain measured): GraphFM momentum beta, a batch "
                                   "pushes (1 - beta) * H + beta * h (1: plain push)",
                                   float_type(0.0, 1.0, lo_open=True, what="in (0, 1]"))
    # NeighborLoader / ClusterLoader
    num_neighbors: int = flag(10, "--num-neighbors", "NeighborLoader: sampled neighbours per node and layer in "
                                                     "training (inference takes all)", positive_int)
    batch_size: int = flag(256, "--batch-size", "NeighborLoader seed nodes per batch", positive_int)
    cluster_parts: int = flag(0, "--cluster-parts", "ClusterLoader: METIS parts (0: nodes / 2000)", nonneg_int)
    device: str = flag("cpu", "--device", "cpu or cuda[:i]", device_name)
    # Several processes (ibmb.distributed)
    nproc: int = flag(1, "--nproc", "processes (ranks) on this machine for data-parallel ibmb-node/ibmb-batch and "
                                    "the history methods (one shared history); under torchrun leave it 1",
                      positive_int)
    macrobatch: int = flag(0, "--macrobatch", "with several ranks: 0 = every rank holds all features; k >= 1 = "
                                              "features sharded by node range, the rows of k batches fetched per "
                                              "exchange (history methods: their history rows too; 0 exchanges "
                                              "those every batch)", nonneg_int)
    dist_timeout: float = flag(300.0, "--dist-timeout", "seconds a rank waits for the others in a collective before "
                                                        "the job fails", positive_float)
    seed: int = internal(0)
    progress: Optional[bool] = flag(None, "--quiet", "no progress bars", action="store_const", const=False)


@dataclass
class DataSpec:
    """Which dataset a job loads (see :func:`ibmb.data.load`); the ``nodes``
    ... ``separation`` fields shape the built-in generated graph, with the
    defaults of :func:`ibmb.data.load` (one set: ``ibmb.datasets.HOMOPHILY``
    and ``SEPARATION``, so ``--dataset default`` is the same graph in every
    job and API).

    ``make run`` asks for a smaller, harder graph on the command line
    (``--nodes 20000 --homophily 0.45 --separation 0.2``): with 10 classes
    about half of the edges leave a node's class and a node's own features
    hardly reveal its class, so a model must read many neighbours and the
    methods differ in accuracy, while four methods still train in minutes
    on 2 cores.
    """

    dataset: str = flag("default", "--dataset", "'default' (built-in generated graph, no download), "
                                                "cora/citeseer/pubmed, ogbn-*, or a folder with edges.csv and "
                                                "target.csv")
    root: Optional[str] = flag(None, "--root", "dataset root for PyG/OGB datasets")
    nodes: int = flag(100_000, "--nodes", "nodes of the default graph", positive_int)
    features: int = flag(64, "--features", "feature width of the default graph", nonneg_int)
    classes: int = flag(10, "--classes", "classes of the default graph", positive_int)
    degree: float = flag(10.0, "--degree", "average degree of the default graph", nonneg_float)
    homophily: float = flag(HOMOPHILY, "--homophily", "default graph: probability an edge stays in its class",
                            probability)
    separation: float = flag(SEPARATION, "--separation", "default graph: distance of class feature means in noise units",
                             nonneg_float)
    split_seed: int = flag(0, "--split-seed", "seed of random splits", seed_int)
    features_file: Optional[str] = flag(None, "--features-file", "a .npy file of [nodes, F] float32 features "
                                        "used as x, memory-mapped (features larger than memory)")

    def load(self) -> Any:
        """The dataset as a PyG ``Data`` with train/val/test masks (``x``
        mapped from ``features_file`` when given)."""
        from ibmb import data as D

        data = D.load(self.dataset, self.root, num_nodes=self.nodes, num_classes=self.classes,
                      avg_degree=self.degree, num_features=self.features, homophily=self.homophily,
                      separation=self.separation, split_seed=self.split_seed)
        if self.features_file:
            x = D.map_features(self.features_file)
            if x.dtype != data.x.dtype:
                raise TypeError(f"--features-file {self.features_file} holds {x.dtype}, the models take {data.x.dtype}")
            if x.shape[0] != data.num_nodes:
                raise ValueError(f"--features-file {self.features_file} has {x.shape[0]} rows, the dataset "
                                 f"{data.num_nodes} nodes")
            data.x = x
        return data


def _flagged(cls: type, only: Optional[Iterable[str]]) -> list:
    keep = None if only is None else set(only)
    out = [f for f in dataclasses.fields(cls) if f.metadata.get("flag") and (keep is None or f.name in keep)]
    if keep is not None and len(out) != len(keep):
        raise ValueError(f"{cls.__name__} has no flagged field(s) {sorted(keep - {f.name for f in out})}")
    return out


def add_flags(parser: argparse.ArgumentParser, cls: type, only: Optional[Iterable[str]] = None) -> None:
    """Add one option per flagged field of dataclass ``cls`` (or of the
    fields named in ``only``), with ``dest`` the field's name."""
    for f in _flagged(cls, only):
        m = f.metadata
        kw: dict = dict(m["kwargs"])
        kw.setdefault("default", f.default)
        if m["type"] is not None:
            kw["type"] = m["type"]
        if m["choices"]:
            kw["choices"] = m["choices"]
        elif "action" not in kw:
            kw.setdefault("metavar", m["flag"].lstrip("-").upper().replace("-", "_"))
        shown = "" if "action" in kw or f.default is None else f" (default: {f.default})"
        parser.add_argument(m["flag"], dest=f.name, help=m["help"] + shown, **kw)


def from_args(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """An instance of ``cls`` from the options :func:`add_flags` added (fields
    without an option, or not added, keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
              if f.metadata.get("flag") and hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)


def config_dict(cfg: Any) -> dict:
    """A dataclass as a JSON-ready dict."""
    return dataclasses.asdict(cfg)
