"""Historical embeddings (GNNAutoScale) in host memory owned by the engine.

A :class:`HistoryStore` keeps, for each hidden layer ``l`` of a GNN, one
``[N, dims[l]]`` matrix of the embeddings last computed for every node. A
mini-batch reads its out-of-batch neighbours' embeddings with :meth:`pull`
(the engine's gather kernel) and writes its own fresh ones back with
:meth:`push` (the engine's scatter kernel). Rows are copied bit for bit;
the store's dtype (float32, float16, bfloat16 or float64) is the dtype of
everything pulled and pushed, so a model computing in float32 over a
float16 store converts with ``.to(store.dtype)`` before a push and
``.float()`` after a pull.

``device="cuda"`` keeps the histories in device memory and ``pinned=True``
in page-locked host memory with :meth:`HistoryStore.pull_async` (see
``ibmb._history_gpu``; both unverified on a real GPU so far).

:func:`scatter` is the bare kernel: ``dst[index] = src`` in place, like
``dst.index_copy_(0, index, src)`` with distinct indices.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from ibmb import _history_gpu as _gpu
from ibmb._arrays import as_index, as_int, is_tensor, ptr, torch
from ibmb._native import Handle, call, engine

__all__ = ["HistoryStore", "scatter"]

# Engine dtype codes (gopkg/history.DType).
_CODES = {} if torch is None else {torch.float32: 1, torch.float16: 2, torch.bfloat16: 3, torch.float64: 4}
_DTYPES = {c: t for t, c in _CODES.items()}


class _Memory:
    """Exposes one layer matrix to numpy. Views hold this object, which
    holds the store's :class:`Handle` (never the store), so the memory is
    freed when the store and its last view are gone."""

    def __init__(self, owner: Handle, addr: int, size: int) -> None:
        self._owner = owner
        self.__array_interface__ = {"shape": (size,), "typestr": "|u1", "data": (addr, False), "version": 3}


def _index(n_id: Any, name: str = "n_id") -> "torch.Tensor":
    """``n_id`` as a contiguous int64 CPU tensor (lists, numpy, tensors)."""
    idx = as_index(n_id, name)
    if is_tensor(idx):
        if idx.device.type != "cpu":
            raise ValueError(f"{name} is on {idx.device}; this store lives in host memory: pass {name}.cpu()")
        return idx
    return torch.from_numpy(idx)


def _rows(x: Any, name: str, dtype: "torch.dtype", width: int) -> "torch.Tensor":
    """Checks a ``[M, width]`` tensor of ``dtype`` on the CPU, contiguous."""
    if not is_tensor(x):
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the store's), got {x.dtype}: convert with .to({dtype})")
    if x.device.type != "cpu":
        raise ValueError(f"{name} is on {x.device}; this store lives in host memory: pass {name}.cpu()")
    if x.dim() != 2 or x.shape[1] != width:
        raise ValueError(f"{name} must have shape [M, {width}], got {tuple(x.shape)}")
    if not x.is_contiguous():
        raise ValueError(f"{name} must be contiguous (got strides {x.stride()}): pass {name}.contiguous()")
    return x


class HistoryStore:
    """Per-layer ``[num_nodes, dims[l]]`` history matrices in host memory.

    Args:
        num_nodes: ``N``, rows of every matrix (the graph's node count).
        dims: the row width of each hidden layer, e.g. ``[256, 256]``.
        dtype: storage dtype: ``torch.float32`` (default), ``torch.float16``,
            ``torch.bfloat16`` (half the memory) or ``torch.float64``.
        device: ``None``/``"cpu"`` (host memory) or a CUDA device: the
            matrices then live in device memory and :meth:`pull`/:meth:`push`
            take CUDA tensors on it (current torch stream).
        pinned: keep the matrices in page-locked host memory of the current
            CUDA device, for :meth:`pull_async`.

    GPU placements raise ``ibmb.UnavailableError`` where there is no CUDA
    device; they have not run on a real GPU yet (emulated driver only).

    The matrices start zero-filled. Their size is checked against the memory
    available before anything is allocated (``MemoryError`` otherwise). The
    memory is released when the store and every view from :meth:`layer` are
    gone. Safe to use from several threads (a loader's prefetch thread may
    pull while the training loop pushes another layer).

    Example:
        >>> import torch, ibmb
        >>> h = ibmb.HistoryStore(5, [2])
        >>> h.push(0, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([4, 1]))
        >>> h.pull(0, torch.tensor([1, 0, 4])).tolist()
        [[3.0, 4.0], [0.0, 0.0], [1.0, 2.0]]
    """

    def __init__(self, num_nodes: int, dims: Sequence[int], dtype: "torch.dtype" = None, *,
                 device: Any = None, pinned: bool = False) -> None:
        if torch is None:  # pragma: no cover
            raise ImportError("HistoryStore needs torch")
        dtype = torch.float32 if dtype is None else dtype
        if dtype not in _CODES:
            raise TypeError(f"dtype must be torch.float32, float16, bfloat16 or float64, got {dtype}")
        n = as_int(num_nodes, "num_nodes", min=1, max=2**63 - 1)
        if is_tensor(dims) or isinstance(dims, (str, bytes)) or not hasattr(dims, "__len__"):
            raise TypeError(f"dims must be a sequence of ints, got {type(dims).__name__}")
        d = np.array([as_int(v, f"dims[{i}]", min=1, max=2**63 - 1) for i, v in enumerate(dims)], dtype=np.int64)
        if d.size == 0:
            raise ValueError("dims is empty: a store needs at least one layer")
        if not isinstance(pinned, (bool, np.bool_)):
            raise TypeError(f"pinned must be True or False, got {type(pinned).__name__} {pinned!r}")
        self.placement, self.device = _gpu.resolve(device, bool(pinned))  # device: CUDA device or None
        self._owner = Handle(call(engine.HistoryNewOn, n, ptr(d, np.int64, d.size, "dims"), int(d.size), _CODES[dtype],
                                  self.placement, 0 if self.device is None else self.device.index))
        self.num_nodes: int = n
        self.dims: tuple[int, ...] = tuple(int(v) for v in d)
        self.dtype = dtype

    @property
    def num_layers(self) -> int:
        return len(self.dims)

    @property
    def nbytes(self) -> int:
        """Bytes of all layers (``num_nodes * sum(dims) * itemsize``)."""
        return int(call(engine.HistoryBytes, self._owner.value))

    def layer_nbytes(self, layer: int) -> int:
        """Bytes of one layer's matrix."""
        return self.num_nodes * self.dims[self._layer(layer)] * self.dtype.itemsize

    def _layer(self, layer: Any) -> int:
        return as_int(layer, "layer", min=0, max=len(self.dims) - 1)

    def layer(self, layer: int) -> "torch.Tensor":
        """A zero-copy ``[num_nodes, dims[layer]]`` tensor of the layer's
        matrix. Writes to it change the store (e.g. to fill it by layer-wise
        inference); it keeps the memory alive on its own. Access through the
        view is not synchronized with :meth:`pull`/:meth:`push` from other
        threads (those take the layer's lock; the view cannot)."""
        lay = self._layer(layer)
        if self.placement == _gpu.DEVICE:
            raise ValueError("layer() views host memory; this store lives on the GPU: use pull()")
        addr = int(call(engine.HistoryAddr, self._owner.value, lay))
        mem = np.asarray(_Memory(self._owner, addr, self.layer_nbytes(lay)))
        return torch.from_numpy(mem).view(self.dtype).view(self.num_nodes, self.dims[lay])

    def pull(self, layer: int, n_id: Any, out: Optional["torch.Tensor"] = None) -> "torch.Tensor":
        """Rows ``n_id`` of layer ``layer``: ``H[layer][n_id]`` as ``[M, d]``.

        Args:
            layer: hidden layer, ``0 <= layer < num_layers``.
            n_id: ``[M]`` node ids (repeats allowed), integers in ``[0, N)``.
            out: optional ``[M, d]`` contiguous CPU tensor of the store's
                dtype to write into (left untouched on an error).

        Raises:
            IndexError: an id is negative or ``>= N``.
            TypeError, ValueError: wrong dtype, shape, device or layout.
        """
        lay = self._layer(layer)
        if self.placement == _gpu.DEVICE:
            return _gpu.pull_device(self._owner, lay, n_id, out, self.dtype, self.dims[lay], self.device)
        idx = _index(n_id)
        d = self.dims[lay]
        if out is None:
            out = torch.empty((idx.shape[0], d), dtype=self.dtype)
        else:
            _rows(out, "out", self.dtype, d)
            if out.shape[0] != idx.shape[0]:
                raise ValueError(f"out must have shape [{idx.shape[0]}, {d}], got {tuple(out.shape)}")
            if out.requires_grad:
                raise ValueError("out must not require grad (pull writes it in place)")
        if idx.numel():
            call(engine.HistoryPull, self._owner.value, lay, ptr(idx, torch.int64, None, "n_id"), idx.shape[0],
                 ptr(out, self.dtype, idx.shape[0] * d, "out"))
        return out

    def push(self, layer: int, x: "torch.Tensor", n_id: Any) -> None:
        """Write rows ``x`` into layer ``layer`` at ``n_id``: ``H[layer][n_id] = x``.

        Args:
            layer: hidden layer, ``0 <= layer < num_layers``.
            x: ``[M, d]`` contiguous CPU tensor of the store's dtype (detached
                automatically).
            n_id: ``[M]`` DISTINCT node ids in ``[0, N)``.

        Raises:
            IndexError: an id is negative or ``>= N``.
            ValueError: an id occurs twice, or wrong shape, device or layout
                (a non-contiguous ``x`` is refused, not copied).
            TypeError: wrong dtype.
        Nothing is written when an error is raised.
        """
        lay = self._layer(layer)
        if self.placement == _gpu.DEVICE:
            return _gpu.push_device(self._owner, lay, x, n_id, self.dtype, self.dims[lay], self.device)
        idx = _index(n_id)
        d = self.dims[lay]
        x = _rows(x, "x", self.dtype, d).detach()
        if x.shape[0] != idx.shape[0]:
            raise ValueError(f"x has {x.shape[0]} rows but n_id has {idx.shape[0]} ids")
        if idx.numel():
            call(engine.HistoryPush, self._owner.value, lay, ptr(x, self.dtype, idx.shape[0] * d, "x"),
                 ptr(idx, torch.int64, None, "n_id"), idx.shape[0])

    def pull_async(self, layer: int, n_id: Any, out: Optional["torch.Tensor"] = None) -> "_gpu.PendingPull":
        """Starts copying ``H[layer][n_id]`` to a ``[M, d]`` CUDA tensor
        without blocking (``pinned=True`` stores only): an engine thread
        gathers the rows into a page-locked buffer, then they are copied on a
        side stream ordered after the current stream. ``n_id``: ``[M]`` CPU
        ids (repeats allowed); ``out``: optional contiguous CUDA tensor.
        Returns a handle whose ``.wait()`` returns ``out`` once the rows are
        there. Raises IndexError (nothing started) for ids outside ``[0, N)``."""
        lay = self._layer(layer)
        if self.placement != _gpu.PINNED:
            raise ValueError("pull_async needs a HistoryStore(..., pinned=True)")
        return _gpu.pull_async(self._owner, self, lay, n_id, out, self.dtype, self.dims[lay], self.device)

    def __reduce__(self) -> Any:
        """Pickling, ``copy.copy`` and ``copy.deepcopy`` copy the rows into
        a new store of the same placement (rows travel on the CPU)."""
        if self.placement == _gpu.DEVICE:
            every = torch.arange(self.num_nodes, device=self.device)
            layers = tuple(self.pull(lay, every).cpu() for lay in range(self.num_layers))
        else:
            layers = tuple(self.layer(lay).clone() for lay in range(self.num_layers))
        return _restore, (self.num_nodes, self.dims, self.dtype, layers, self._where())

    def _where(self) -> dict:
        """The constructor's placement arguments."""
        if self.device is None:
            return {}
        return {"pinned": True} if self.placement == _gpu.PINNED else {"device": str(self.device)}

    def __repr__(self) -> str:
        where = "".join(f", {k}={v!r}" for k, v in self._where().items())
        return (f"HistoryStore(num_nodes={self.num_nodes}, dims={list(self.dims)}, dtype={self.dtype}{where}, "
                f"{self.nbytes / 2**20:.1f} MiB)")


def _restore(num_nodes: int, dims: Sequence[int], dtype: "torch.dtype",
             layers: Sequence["torch.Tensor"], where: Optional[dict] = None) -> HistoryStore:
    """A new store holding ``layers`` (the inverse of ``HistoryStore.__reduce__``)."""
    store = HistoryStore(num_nodes, dims, dtype, **(where or {}))
    for lay, rows in enumerate(layers):
        if store.placement == _gpu.DEVICE:
            store.push(lay, rows.to(store.device), torch.arange(num_nodes, device=store.device))
        else:
            store.layer(lay).copy_(rows)
    return store


def scatter(dst: "torch.Tensor", index: Any, src: "torch.Tensor") -> "torch.Tensor":
    """``dst[index] = src`` in place by the engine's scatter kernel; returns ``dst``.

    Equal to ``dst.index_copy_(0, index, src)`` for distinct indices.
    ``dst`` is ``[N, *]`` and ``src`` ``[M, *]``, contiguous tensors of the
    same dtype (any: rows are copied as bytes) on the CPU or the same CUDA
    device (the CUDA kernel is queued on the current stream after an id
    check that synchronizes it; not yet run on a real GPU); ``index``
    holds ``M`` distinct ids in ``[0, N)``.

    Raises:
        IndexError: an index is negative or ``>= N`` (nothing written).
        ValueError: a repeated index (nothing written), wrong shapes, a
            non-contiguous tensor, or tensors on different devices.
        ibmb.UnavailableError: CUDA tensors but no usable CUDA driver/NVRTC.
        TypeError: dtypes differ.
    """
    if not is_tensor(dst) or not is_tensor(src):
        raise TypeError("dst and src must be torch tensors")
    if src.dtype != dst.dtype:
        raise TypeError(f"src must have dtype {dst.dtype} (dst's), got {src.dtype}")
    if src.device != dst.device or dst.device.type not in ("cpu", "cuda"):
        raise ValueError(f"dst ({dst.device}) and src ({src.device}) must be on the same CPU or CUDA device")
    if dst.is_cuda:
        idx = as_index(index, "index") if is_tensor(index) else torch.as_tensor(as_index(index, "index"))
        if idx.device != dst.device:
            raise ValueError(f"index is on {idx.device} but dst is on {dst.device}")
    else:
        idx = _index(index, "index")
    if dst.dim() < 1:
        raise ValueError(f"dst must have at least one dimension (rows), got shape {list(dst.shape)}")
    if tuple(src.shape) != (idx.shape[0],) + tuple(dst.shape[1:]):
        raise ValueError(f"src must have shape {[idx.shape[0]] + list(dst.shape[1:])}, got {list(src.shape)}")
    if dst.requires_grad:
        raise ValueError("dst must not require grad (scatter writes it in place)")
    row_bytes = math.prod(dst.shape[1:]) * dst.element_size()
    if idx.numel() and not row_bytes:  # nothing to copy, but the ids must still be valid
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= dst.shape[0]:
            raise IndexError(f"index {lo if lo < 0 else hi} is out of range for {dst.shape[0]} rows")
        if torch.unique(idx).numel() != idx.numel():
            raise ValueError("index holds a repeated id; ids must be distinct")
    elif idx.numel() and dst.is_cuda:  # unverified on a real GPU (tested on an emulated driver in Go only)
        stream = torch.cuda.current_stream(dst.device).cuda_stream
        call(engine.ScatterCUDA, dst.device.index, ptr(dst, None, None, "dst"), dst.shape[0], row_bytes,
             ptr(src.detach(), None, None, "src"), ptr(idx, torch.int64, None, "index"), idx.shape[0], stream)
    elif idx.numel():
        call(engine.Scatter, ptr(dst, None, None, "dst"), dst.shape[0], row_bytes,
             ptr(src.detach(), None, None, "src"), ptr(idx, torch.int64, None, "index"), idx.shape[0])
    return dst
