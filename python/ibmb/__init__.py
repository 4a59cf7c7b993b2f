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
  replacements for PyG's IBMB loaders over a contiguous batch arena
  (:mod:`ibmb.loader`); :mod:`ibmb.sampler` computes which batches exist,
  :mod:`ibmb.batching`, :mod:`ibmb.arena` and :mod:`ibmb.order` are the
  primitives below them.
- :func:`ibmb.profile`: GPU profiling through NVML (:mod:`ibmb.profiling`).
"""
from __future__ import annotations

from typing import Any

from ibmb._native import EngineError, ForkError, UnavailableError, call as _call, engine as _engine

__version__: str = _call(_engine.Version)

from ibmb import arena, batching, data, datasets, graph, order, ppr, sampler  # noqa: E402
from ibmb.ops import gather  # noqa: E402  (ibmb.gather is the function; the module is ibmb.ops)
from ibmb.history import HistoryStore  # noqa: E402
from ibmb.ppr import get_ppr  # noqa: E402
from ibmb.profiling import profile  # noqa: E402  (ibmb.profile is the function; the module ibmb.profiling)


def __getattr__(name: str) -> Any:
    """``ibmb.IBMBNodeLoader`` and ``ibmb.IBMBBatchLoader``, imported on first
    use: they subclass torch's DataLoader, and torch is optional."""
    if name in ("IBMBNodeLoader", "IBMBBatchLoader", "loader"):
        import ibmb.loader

        return ibmb.loader if name == "loader" else getattr(ibmb.loader, name)
    raise AttributeError(f"module 'ibmb' has no attribute {name!r}")


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
    "arena",
    "order",
    "sampler",
    "graph",
    "datasets",
    "num_threads",
    "set_num_threads",
    "cuda_status",
    "EngineError",
    "UnavailableError",
    "ForkError",
]
