"""Helpers that check numpy arrays and torch tensors before they cross to Go.

Go receives a data pointer and a length; these helpers make sure the memory
behind them is what the engine expects (dtype, contiguity, device).
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:  # torch is optional for the numpy-only API
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]


def is_tensor(a: Any) -> bool:
    return torch is not None and isinstance(a, torch.Tensor)


def as_index(index: Any, name: str = "index") -> Any:
    """Return ``index`` as a contiguous 1-D int64 array/tensor (same kind).

    Integer inputs of other widths are converted; bool, float and other
    dtypes raise TypeError.
    """
    if is_tensor(index):
        if index.dtype == torch.bool or index.is_floating_point() or index.is_complex():
            raise TypeError(f"{name} must be an integer tensor, got dtype {index.dtype}")
        if index.dim() != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(index.shape)}")
        return index.to(torch.int64).contiguous()
    arr = np.asarray(index)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def as_node_ints(value: Any, n: int, must: str) -> np.ndarray:
    """One integer per node (``[n]``, numpy or torch) as a contiguous int64
    numpy array; anything else raises ValueError("<must>, got <dtype> <shape>")."""
    arr = np.asarray(value.detach().cpu().numpy() if is_tensor(value) else value)
    if not np.issubdtype(arr.dtype, np.integer) or arr.shape != (n,):
        raise ValueError(f"{must}, got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def as_node_ids(value: Any, n: int, name: str) -> np.ndarray:
    """Node ids for a graph of ``n`` nodes as a contiguous int64 numpy array.

    ``value`` is ``None`` (every node), ``[M]`` integer ids (numpy or torch,
    any order) or a ``[n]`` boolean mask. Raises ValueError when the result is
    empty and TypeError for non-integer ids; range checks happen in the engine.
    """
    if value is None:
        if n == 0:
            raise ValueError(f"the graph has no nodes, so {name} is empty")
        return np.arange(n, dtype=np.int64)
    if is_tensor(value):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype == np.bool_:
        if arr.shape != (n,):
            raise ValueError(f"a boolean {name} mask must have shape [{n}], got {arr.shape}")
        arr = np.flatnonzero(arr).astype(np.int64)
    else:
        arr = as_index(arr, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one node")
    return arr


def as_edge_index(edge_index: Any) -> np.ndarray:
    """Return a PyG ``edge_index`` ([2, E] integers) as a C-contiguous int64
    numpy array on the host."""
    if is_tensor(edge_index):
        if edge_index.dtype == torch.bool or edge_index.is_floating_point() or edge_index.is_complex():
            raise TypeError(f"edge_index must be an integer tensor, got dtype {edge_index.dtype}")
        edge_index = edge_index.detach().cpu().numpy()
    arr = np.asarray(edge_index)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"edge_index must hold integers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != 2:
        raise ValueError(f"edge_index must have shape [2, num_edges], got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def ptr(a: Any) -> int:
    """Data pointer of a contiguous numpy array or torch tensor (0 if empty)."""
    if is_tensor(a):
        return int(a.data_ptr()) if a.numel() else 0
    return int(a.ctypes.data) if a.size else 0
