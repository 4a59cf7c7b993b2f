"""Checks on everything that crosses to Go: arrays that become pointers,
integer arguments, and allocation sizes.

Go receives a data pointer and a length, so the memory behind them must be
exactly what the engine expects. :func:`ptr` is the one place where an array
becomes an address: it checks the dtype, C-contiguity (hence positive
strides), the length and, for outputs, writeability, and raises otherwise.
The ``as_*`` helpers convert user input (lists, numpy arrays of any integer
width, torch tensors, strided views) into the contiguous arrays ``ptr``
accepts. :func:`as_int` checks integer arguments (counts, seeds), and
:func:`check_memory` compares an allocation with the memory available before
anything big is allocated.
"""
from __future__ import annotations

import operator
import os
from typing import Any, Optional

import numpy as np

try:  # torch is optional for the numpy-only API
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

_INT64_MAX = np.iinfo(np.int64).max


def is_tensor(a: Any) -> bool:
    return torch is not None and isinstance(a, torch.Tensor)


# --------------------------------------------------------------- integers
def as_int(value: Any, name: str, *, min: Optional[int] = None, max: Optional[int] = None) -> int:
    """``value`` as a Python int: Python and numpy integers (and 0-d integer
    arrays or tensors) are accepted; bool, float (even ``3.0``), str and
    anything else raise TypeError naming ``name``; values outside
    ``[min, max]`` raise ValueError."""
    if isinstance(value, (bool, np.bool_)) or (is_tensor(value) and value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer, got bool {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        shown = repr(value) if len(repr(value)) <= 40 else type(value).__name__
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {shown}") from None
    if min is not None and v < min:
        raise ValueError(f"{name} must be >= {min}, got {v}")
    if max is not None and v > max:
        raise ValueError(f"{name} must be <= {max}, got {v}")
    return int(v)


def _from_sequence(value: Any) -> np.ndarray:
    """``np.asarray`` of a list/tuple of Python ints, where an empty list
    becomes an empty int64 array (numpy would make it float64) and ints
    beyond 64 bits are reported instead of turning into an object array."""
    arr = np.asarray(value)
    if arr.size == 0 and arr.dtype.kind == "f":
        return arr.astype(np.int64)
    if arr.dtype == object:
        flat = arr.reshape(-1)
        bad = next((v for v in flat if isinstance(v, int) and not -2**63 <= v < 2**63), None)
        if bad is not None:
            raise ValueError(f"value {bad} does not fit in int64")
    return arr


def as_int64(value: Any, name: str, ndim: Optional[int] = 1) -> np.ndarray:
    """``value`` (list, numpy array of any integer dtype, torch tensor, strided
    or negative-stride view) as a C-contiguous int64 numpy array.

    bool, float and other dtypes raise TypeError; unsigned values that do not
    fit in int64 raise ValueError naming the value (instead of wrapping to
    negatives); a wrong number of dimensions raises ValueError."""
    if is_tensor(value):
        if value.dtype == torch.bool or value.is_floating_point() or value.is_complex():
            raise TypeError(f"{name} must hold integers, got dtype {value.dtype}")
        if value.dtype in _torch_unsigned() and value.numel() and int(value.max()) > _INT64_MAX:
            raise ValueError(f"{name} holds {int(value.max())}, which does not fit in int64")
        value = value.detach().cpu()
        arr = value.numpy() if value.dtype not in _torch_unsigned() else value.to(torch.int64).numpy()
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        arr = _from_sequence(value)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > _INT64_MAX:
        raise ValueError(f"{name} holds {int(arr.max())}, which does not fit in int64")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _torch_unsigned() -> tuple:
    return tuple(getattr(torch, n) for n in ("uint16", "uint32", "uint64") if hasattr(torch, n))


def as_index(index: Any, name: str = "index") -> Any:
    """``index`` as a contiguous 1-D int64 array/tensor of the same kind
    (tensors stay on their device; lists become numpy).

    Integer inputs of other widths are converted; bool, float and other
    dtypes raise TypeError; uint64 values beyond int64 raise ValueError.
    """
    if is_tensor(index):
        if index.dtype == torch.bool or index.is_floating_point() or index.is_complex():
            raise TypeError(f"{name} must be an integer tensor, got dtype {index.dtype}")
        if index.dim() != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(index.shape)}")
        if index.dtype in _torch_unsigned() and index.numel() and int(index.max()) > _INT64_MAX:
            raise ValueError(f"{name} holds {int(index.max())}, which does not fit in int64")
        return index.to(torch.int64).contiguous()
    return as_int64(index, name)


def as_node_ints(value: Any, n: int, must: str) -> np.ndarray:
    """One integer per node (``[n]``, numpy or torch) as a contiguous int64
    numpy array; anything else raises ValueError("<must>, got <dtype> <shape>")."""
    try:
        arr = as_int64(value, "values", ndim=None)
    except TypeError:
        arr = np.asarray(value.detach().cpu().numpy() if is_tensor(value) else value)
        raise ValueError(f"{must}, got {arr.dtype} {arr.shape}") from None
    except ValueError as e:
        raise ValueError(f"{must}: {e}") from None
    if arr.shape != (n,):
        raise ValueError(f"{must}, got {arr.dtype} {arr.shape}")
    return arr


def as_node_ids(value: Any, n: int, name: str) -> np.ndarray:
    """Node ids for a graph of ``n`` nodes as a contiguous int64 numpy array.

    ``value`` is ``None`` (every node), ``[M]`` integer ids (list, numpy or
    torch, any order) or a ``[n]`` boolean mask. Raises ValueError when the
    result is empty and TypeError for non-integer ids; range checks happen
    in the engine.
    """
    if value is None:
        if n == 0:
            raise ValueError(f"the graph has no nodes, so {name} is empty")
        return np.arange(n, dtype=np.int64)
    if is_tensor(value):
        value = value.detach().cpu()
        if value.dtype == torch.bool:
            value = value.numpy()
    elif not isinstance(value, np.ndarray):
        value = _from_sequence(value)
    if isinstance(value, np.ndarray) and value.dtype == np.bool_:
        if value.shape != (n,):
            raise ValueError(f"a boolean {name} mask must have shape [{n}], got {value.shape}")
        arr = np.flatnonzero(value).astype(np.int64)
    else:
        arr = as_int64(value, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one node")
    return arr


def as_edge_index(edge_index: Any) -> np.ndarray:
    """A PyG ``edge_index`` ([2, E] integers: list, numpy or torch) as a
    C-contiguous int64 numpy array on the host."""
    if not is_tensor(edge_index) and not isinstance(edge_index, np.ndarray):
        edge_index = _from_sequence(edge_index)
        if edge_index.size == 0 and edge_index.ndim == 1:  # [] alone: no edges
            edge_index = edge_index.reshape(2, 0)
    arr = as_int64(edge_index, "edge_index", ndim=None)
    if arr.ndim != 2 or arr.shape[0] != 2:
        raise ValueError(f"edge_index must have shape [2, num_edges], got {arr.shape}")
    return arr


# --------------------------------------------------------------- pointers
def ptr(a: Any, dtype: Any = None, size: Optional[int] = None, name: str = "array", writable: bool = False) -> int:
    """Data pointer of ``a`` for the engine (0 when it is empty).

    ``a`` must be a numpy array or torch tensor that is C-contiguous (so
    every stride is positive and the ``size`` elements lie one after the
    other), of ``dtype`` (numpy dtype or torch dtype; any when None) and of
    ``size`` elements (any when None); ``writable`` outputs must be
    writeable. Anything else raises TypeError (kind, dtype) or ValueError
    (layout, length): an address is never taken of memory the engine would
    read differently from what numpy shows.
    """
    if is_tensor(a):
        if dtype is not None and a.dtype != dtype:
            raise TypeError(f"{name} must have dtype {dtype}, got {a.dtype}")
        if not a.is_contiguous():
            raise ValueError(f"{name} must be contiguous, got strides {a.stride()}")
        if size is not None and a.numel() != size:
            raise ValueError(f"{name} must hold {size} elements, got {a.numel()}")
        return int(a.data_ptr()) if a.numel() else 0
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(a).__name__}")
    if dtype is not None and a.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {a.dtype}")
    if not a.flags.c_contiguous or any(s < 0 for s in a.strides):
        raise ValueError(f"{name} must be C-contiguous, got strides {a.strides}")
    if size is not None and a.size != size:
        raise ValueError(f"{name} must hold {size} elements, got {a.size}")
    if writable and not a.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    return int(a.ctypes.data) if a.size else 0


# ----------------------------------------------------------------- memory
def available_memory() -> int:
    """Bytes this process can still allocate without swapping: the kernel's
    ``MemAvailable`` (free memory plus reclaimable caches), lowered to the
    cgroup limit's headroom when one is set."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:  # pragma: no cover - not Linux
        pass
    if avail is None:  # pragma: no cover
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 62
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used = int(f.read().strip())
        if limit != "max":
            avail = min(avail, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return int(avail)


def _fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


def check_memory(nbytes: int, what: str) -> None:
    """Raise MemoryError naming ``what`` when ``nbytes`` exceed the memory
    available now (nothing is allocated)."""
    avail = available_memory()
    if nbytes > avail:
        raise MemoryError(f"{what} needs {_fmt_bytes(nbytes)}, more than the {_fmt_bytes(avail)} of memory "
                          "available")
