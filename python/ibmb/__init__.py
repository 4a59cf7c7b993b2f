"""ibmb: influence-based mini-batching for graph neural networks.

A native (Go, C/AVX, CUDA) engine for IBMB (Gasteiger, Qian & Günnemann,
LoG 2022) with a PyTorch Geometric-style Python layer.

Main entry points:

- :func:`ibmb.gather`: gather feature rows into a contiguous block (numpy
  arrays, CPU and CUDA torch tensors).
- :class:`ibmb.HistoryStore`: historical embeddings (GNNAutoScale) per
  hidden layer, pulled and pushed by the engine's gather/scatter kernels.
- :func:`ibmb.get_ppr`: ``torch_geometric.utils.get_ppr`` in the native
  engine, plus top-k; :mod:`ibmb.ppr` has node-wise and set-wise PPR.
- :mod:`ibmb.graph`: CSR graphs from PyG ``edge_index``, normalization,
  induced subgraphs.
- :mod:`ibmb.datasets`: built-in generated graphs (no download needed).
- :class:`ibmb.IBMBNodeLoader`, :class:`ibmb.IBMBBatchLoader`: drop-in
  replacements for PyG's IBMB loaders over a contiguous batch arena.
"""
from __future__ import annotations

from ibmb._native import EngineError, ForkError, UnavailableError, call as _call, engine as _engine

__version__: str = _call(_engine.Version)

from ibmb import batching, data, datasets, graph, ppr  # noqa: E402
from ibmb.gather import gather  # noqa: E402
from ibmb.history import HistoryStore  # noqa: E402
from ibmb.loader import IBMBBatchLoader, IBMBNodeLoader  # noqa: E402
from ibmb.ppr import get_ppr  # noqa: E402
from ibmb.profile import profile  # noqa: E402


def num_threads() -> int:
    """Number of threads the engine uses for parallel work (Go's GOMAXPROCS)."""
    return int(_call(_engine.NumThreads))


def set_num_threads(n: int) -> int:
    """Set the engine's thread count (``n < 1``: all cores); returns the old value."""
    from ibmb._arrays import as_int

    return int(_call(_engine.SetNumThreads, as_int(n, "n")))


def cuda_status() -> str:
    """``""`` when the engine can use a CUDA device, else the reason it cannot."""
    return str(_call(_engine.CUDAStatus))


__all__ = [
    "__version__",
    "gather",
    "HistoryStore",
    "get_ppr",
    "profile",
    "IBMBNodeLoader",
    "IBMBBatchLoader",
    "ppr",
    "batching",
    "graph",
    "datasets",
    "num_threads",
    "set_num_threads",
    "cuda_status",
    "EngineError",
    "UnavailableError",
    "ForkError",
]
