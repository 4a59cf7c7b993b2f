"""Built-in generated graphs: the product runs with no downloaded data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ibmb._native import call, engine

__all__ = ["GraphData", "csbm", "rmat"]


@dataclass
class GraphData:
    """A generated graph, as numpy arrays.

    Attributes:
        edge_index: ``[2, E]`` int64, directed edges ``edge_index[0] -> edge_index[1]``.
        x: ``[N, F]`` float32 node features (``F`` may be 0).
        y: ``[N]`` int64 class labels in ``[0, num_classes)``.
        num_nodes: ``N``.
        num_classes: number of classes.
    """

    edge_index: np.ndarray
    x: np.ndarray
    y: np.ndarray
    num_nodes: int
    num_classes: int

    def to_pyg(self) -> Any:
        """Return a ``torch_geometric.data.Data`` sharing memory with these arrays."""
        import torch
        from torch_geometric.data import Data

        return Data(x=torch.from_numpy(self.x), edge_index=torch.from_numpy(self.edge_index),
                    y=torch.from_numpy(self.y), num_nodes=self.num_nodes)


def _materialize(h: int) -> GraphData:
    try:
        shape = np.zeros(4, dtype=np.int64)
        call(engine.SynthShape, h, shape.ctypes.data)
        n, e, f, k = (int(v) for v in shape)
        edge_index = np.empty((2, e), dtype=np.int64)
        x = np.empty((n, f), dtype=np.float32)
        y = np.empty(n, dtype=np.int64)
        call(engine.SynthCopy, h, edge_index.ctypes.data, x.ctypes.data if x.size else 0, y.ctypes.data)
        return GraphData(edge_index, x, y, n, k)
    finally:
        call(engine.Free, h)


def csbm(num_nodes: int = 100_000, num_classes: int = 10, avg_degree: float = 10.0,
         homophily: float = 0.8, num_features: int = 64, separation: float = 1.0,
         seed: int = 0) -> GraphData:
    """Contextual stochastic block model: the built-in default graph.

    Node ``v`` has class ``v % num_classes``; each of the
    ``round(num_nodes * avg_degree)`` directed edges starts at a uniform node
    and ends inside its class with probability ``homophily`` (else at a
    uniform node); features are the class mean (scaled by ``separation``)
    plus standard Gaussian noise. Deterministic for a given ``seed``.
    """
    h = call(engine.SynthCSBM, int(num_nodes), int(num_classes), float(avg_degree), float(homophily),
             int(num_features), float(separation), int(seed))
    return _materialize(h)


def rmat(scale: int, edge_factor: float = 16.0, a: float = 0.57, b: float = 0.19, c: float = 0.19,
         num_features: int = 0, num_classes: int = 1, seed: int = 0) -> GraphData:
    """R-MAT power-law graph with ``2**scale`` nodes and
    ``edge_factor * 2**scale`` directed edges (Graph500 parameters by default).
    Features are Gaussian noise and labels uniform: for scale tests only."""
    h = call(engine.SynthRMAT, int(scale), float(edge_factor), float(a), float(b), float(c),
             int(num_features), int(num_classes), int(seed))
    return _materialize(h)
