"""Contiguous gather of feature rows (with autograd for torch tensors)."""
from __future__ import annotations

import math
from typing import Any, Optional, TypeVar

import numpy as np

from ibmb._arrays import as_index, is_tensor, ptr, torch
from ibmb._native import call, engine

__all__ = ["gather"]

T = TypeVar("T")

# Feature dtypes the gather accepts. The copy itself is bitwise, so each of
# these is reproduced exactly.
_NUMPY_DTYPES = {np.dtype(np.float32), np.dtype(np.float16)}
_TORCH_DTYPES = set() if torch is None else {torch.float32, torch.float16, torch.bfloat16}


def _numpy_dtype_ok(dt: np.dtype) -> bool:
    # bfloat16 has no numpy dtype of its own; ml_dtypes provides one.
    return dt in _NUMPY_DTYPES or (dt.name == "bfloat16" and dt.itemsize == 2)


def gather(x: T, index: Any, out: Optional[T] = None) -> T:
    r"""Gather rows of ``x`` at ``index`` into one contiguous block.

    Equivalent to ``x[index]`` (``torch.index_select(x, 0, index)``) for
    non-negative in-range indices, computed by the engine's AVX2/AVX-512
    kernels on the CPU, split across threads for large gathers, and by a CUDA
    kernel for CUDA tensors.

    Args:
        x: feature matrix of shape ``[N, *]``: a numpy array or torch tensor of
            dtype float32, float16 or bfloat16. A non-contiguous ``x`` is
            copied to contiguous memory first. ``x`` may be a memory map of
            a file larger than memory (``np.memmap``,
            :func:`ibmb.data.map_features`, ``torch.from_file``): only the
            rows at ``index`` are read.
        index: ``[M]`` integer indices into the first dimension of ``x``
            (int64 is used as is; other integer types are converted). Every
            index must lie in ``[0, N)``; negative indices are not wrapped.
        out: optional output of shape ``[M, *]``, same type, dtype and device
            as ``x``, contiguous. Left untouched when an error is raised.
            Not allowed when ``x`` requires grad.

    Returns:
        The ``[M, *]`` gathered rows, of the same type as ``x`` (``out`` when
        given). When ``x`` is a tensor that requires grad (and grad mode is
        on), the result carries the autograd graph: its backward adds the
        incoming rows into ``x``'s gradient at ``index`` (a scatter-add, so
        repeated indices accumulate), on the CPU and on CUDA.

    Raises:
        IndexError: an index is negative or ``>= N`` (nothing is written).
        TypeError: ``x``, ``index`` or ``out`` has a wrong type or dtype.
        ValueError: wrong shapes, or tensors on different devices.
        ibmb.UnavailableError: ``x`` is a CUDA tensor but the engine cannot
            use the device (no driver, no NVRTC).

    Example:
        >>> import numpy as np, ibmb
        >>> x = np.arange(12, dtype=np.float32).reshape(4, 3)
        >>> ibmb.gather(x, np.array([3, 0, 3])).tolist()
        [[9.0, 10.0, 11.0], [0.0, 1.0, 2.0], [9.0, 10.0, 11.0]]
    """
    if is_tensor(x):
        return _gather_torch(x, index, out)  # type: ignore[return-value]
    if isinstance(x, np.ndarray):
        return _gather_numpy(x, index, out)  # type: ignore[return-value]
    raise TypeError(f"x must be a numpy array or torch tensor, got {type(x).__name__}")


def _shape_checks(shape: tuple, m: int, out_shape: Optional[tuple]) -> tuple:
    if len(shape) < 1:
        raise ValueError("x must have at least one dimension (rows), got a scalar")
    want = (m,) + tuple(shape[1:])
    if out_shape is not None and tuple(out_shape) != want:
        raise ValueError(f"out must have shape {want}, got {tuple(out_shape)}")
    return want


def _check_range(idx: Any, n: int) -> None:
    """Python-side range check, used only where the engine is not called."""
    if len(idx) == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise IndexError(f"index {bad} is out of range for {n} rows")


def _gather_numpy(x: np.ndarray, index: Any, out: Optional[np.ndarray]) -> np.ndarray:
    if not _numpy_dtype_ok(x.dtype):
        raise TypeError(f"x must have dtype float32, float16 or bfloat16, got {x.dtype}")
    if is_tensor(index):
        raise TypeError("index must be a numpy array when x is a numpy array")
    idx = as_index(index)
    want = _shape_checks(x.shape, idx.shape[0], None if out is None else out.shape)
    if out is None:
        out = np.empty(want, dtype=x.dtype)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
        if out.dtype != x.dtype:
            raise TypeError(f"out must have dtype {x.dtype}, got {out.dtype}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be C-contiguous and writeable")
    x = np.ascontiguousarray(x)
    row_bytes = math.prod(x.shape[1:]) * x.itemsize
    if row_bytes == 0 or idx.size == 0:
        _check_range(idx, x.shape[0])
        return out
    call(engine.Gather, ptr(out, x.dtype, None, "out", writable=True), ptr(x, x.dtype, None, "x"), x.shape[0],
         row_bytes, ptr(idx, np.int64, None, "index"), idx.shape[0])
    return out


def _gather_torch(x: "torch.Tensor", index: Any, out: Optional["torch.Tensor"]) -> "torch.Tensor":
    if x.requires_grad and torch.is_grad_enabled():
        if out is not None:
            raise ValueError("out= cannot be used when x requires grad (the result must carry the autograd graph): "
                             "leave out=None, or gather under torch.no_grad()")
        return _Gather.apply(x, _torch_index(x, index))
    return _gather_torch_raw(x, index, out)


if torch is not None:
    class _Gather(torch.autograd.Function):
        """``x[index]`` by the engine's gather; backward scatter-adds the
        ``[M, *]`` gradient into a zero ``[N, *]`` gradient of ``x``."""

        @staticmethod
        def forward(ctx: Any, x: "torch.Tensor", index: "torch.Tensor") -> "torch.Tensor":
            ctx.save_for_backward(index)
            ctx.x_shape = x.shape
            return _gather_torch_raw(x.detach(), index, None)

        @staticmethod
        def backward(ctx: Any, grad: "torch.Tensor") -> tuple[Any, None]:
            (index,) = ctx.saved_tensors
            if not ctx.needs_input_grad[0]:
                return None, None
            gx = grad.new_zeros(ctx.x_shape)
            return gx.index_add_(0, index, grad), None


def _torch_index(x: "torch.Tensor", index: Any) -> Any:
    """``index`` checked for gathering from tensor ``x``: x's dtype is one the
    engine copies, the index is an int tensor on x's device."""
    if x.dtype not in _TORCH_DTYPES:
        raise TypeError(f"x must have dtype float32, float16 or bfloat16, got {x.dtype}")
    if not is_tensor(index):
        index = torch.as_tensor(as_index(index))
    if index.device != x.device:
        raise ValueError(f"index is on {index.device} but x is on {x.device}")
    return as_index(index)


def _gather_torch_raw(x: "torch.Tensor", index: Any, out: Optional["torch.Tensor"]) -> "torch.Tensor":
    idx = _torch_index(x, index)
    want = _shape_checks(tuple(x.shape), idx.shape[0], None if out is None else tuple(out.shape))
    if out is None:
        out = torch.empty(want, dtype=x.dtype, device=x.device)
    else:
        if not is_tensor(out):
            raise TypeError(f"out must be a torch tensor, got {type(out).__name__}")
        if out.dtype != x.dtype:
            raise TypeError(f"out must have dtype {x.dtype}, got {out.dtype}")
        if out.device != x.device:
            raise ValueError(f"out is on {out.device} but x is on {x.device}")
        if not out.is_contiguous():
            raise ValueError("out must be contiguous")
        if out.requires_grad:
            raise ValueError("out must not require grad (gather writes it in place)")
    x = x.detach().contiguous()
    row_bytes = math.prod(x.shape[1:]) * x.element_size()
    if row_bytes == 0 or idx.numel() == 0:
        _check_range(idx, x.shape[0])
        return out
    if x.is_cuda:
        stream = torch.cuda.current_stream(x.device).cuda_stream
        call(engine.GatherCUDA, x.device.index, ptr(out, x.dtype, None, "out"), ptr(x, x.dtype, None, "x"),
             x.shape[0], row_bytes, ptr(idx, torch.int64, None, "index"), idx.shape[0], stream)
    elif x.device.type == "cpu":
        call(engine.Gather, ptr(out, x.dtype, None, "out"), ptr(x, x.dtype, None, "x"), x.shape[0], row_bytes,
             ptr(idx, torch.int64, None, "index"), idx.shape[0])
    else:
        raise ValueError(f"unsupported device {x.device}: use a CPU or CUDA tensor")
    return out
