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
