"""GPU placements of :class:`ibmb.HistoryStore`: device-resident histories
and page-locked host histories with asynchronous pulls.

* ``HistoryStore(..., device="cuda")`` keeps each ``[N, d]`` matrix in
  device memory; :meth:`pull` / :meth:`push` take CUDA tensors on the
  store's device and run the engine's CUDA gather / scatter on the current
  torch stream (``torch.cuda.current_stream().cuda_stream``; the id check
  synchronizes that stream, the copy is queued on it).
* ``HistoryStore(..., pinned=True)`` keeps them in page-locked host memory
  (``cuMemAllocHost``): :meth:`pull` / :meth:`push` work on CPU tensors as
  for the host store, and :meth:`pull_async` gathers the rows on an engine
  thread and copies them to a CUDA tensor on a side stream ordered after the
  current stream; ``.wait()`` on its result makes them visible.

Neither has run on a real GPU yet: the engine's paths are tested against an
emulated CUDA driver (Go tests), and ``benchmarks/device_check.py`` checks
them bit for bit against the host store on the next lent GPU.
"""
from __future__ import annotations

from typing import Any, Optional

from ibmb._arrays import as_index, is_tensor, ptr, torch
from ibmb._native import Handle, UnavailableError, call, engine

HOST, PINNED, DEVICE = 0, 1, 2


def resolve(device: Any, pinned: bool) -> tuple[int, Optional["torch.device"]]:
    """The engine placement code and the CUDA device of a new store.

    ``device`` None or ``"cpu"`` with ``pinned`` False is the host store.
    Raises ValueError for a non-CUDA device or ``pinned`` with a device,
    UnavailableError when torch sees no CUDA device (the engine would then
    fail too, less clearly)."""
    try:  # torch raises RuntimeError for "tpu", "" or "cuda:-1"
        dev = None if device is None else torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"device must be 'cpu' or a CUDA device, got {device!r}: {e}") from None
    if dev is None or dev.type == "cpu":
        if not pinned:
            return HOST, None
        dev = None
    else:
        if dev.type != "cuda":
            raise ValueError(f"device must be 'cpu' or a CUDA device, got {dev}")
        if pinned:
            raise ValueError("pass either device='cuda' (histories in device memory) or pinned=True "
                             "(page-locked host memory with pull_async), not both")
    what = "pinned=True" if pinned else f"device={str(dev)!r}"
    if not torch.cuda.is_available():
        raise UnavailableError(f"HistoryStore({what}) needs a CUDA device, but torch.cuda.is_available() is False "
                               "here; use the default host store (device=None)")
    if dev is None or dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return (PINNED if pinned else DEVICE), dev


def _stream(dev: "torch.device") -> int:
    return int(torch.cuda.current_stream(dev).cuda_stream)


def _ids_on(n_id: Any, dev: "torch.device") -> "torch.Tensor":
    """``n_id`` as a contiguous int64 tensor on ``dev`` (copied there if on the CPU)."""
    idx = as_index(n_id, "n_id")
    if not is_tensor(idx):
        idx = torch.from_numpy(idx)
    if idx.device.type == "cpu":
        return idx.to(dev, non_blocking=False)
    if idx.device != dev:
        raise ValueError(f"n_id is on {idx.device} but the store lives on {dev}")
    return idx


def _cuda_rows(x: Any, name: str, dtype: "torch.dtype", width: int, dev: "torch.device") -> "torch.Tensor":
    """Checks a ``[M, width]`` contiguous CUDA tensor of ``dtype`` on ``dev``."""
    if not is_tensor(x):
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the store's), got {x.dtype}: convert with .to({dtype})")
    if x.device != dev:
        raise ValueError(f"{name} is on {x.device}; this store lives on {dev}: pass {name}.to('{dev}')")
    if x.dim() != 2 or x.shape[1] != width:
        raise ValueError(f"{name} must have shape [M, {width}], got {tuple(x.shape)}")
    if not x.is_contiguous():
        raise ValueError(f"{name} must be contiguous (got strides {x.stride()}): pass {name}.contiguous()")
    return x


def _out(out: Optional["torch.Tensor"], m: int, dtype: "torch.dtype", d: int, dev: "torch.device") -> "torch.Tensor":
    if out is None:
        return torch.empty((m, d), dtype=dtype, device=dev)
    _cuda_rows(out, "out", dtype, d, dev)
    if out.shape[0] != m:
        raise ValueError(f"out must have shape [{m}, {d}], got {tuple(out.shape)}")
    if out.requires_grad:
        raise ValueError("out must not require grad (pull writes it in place)")
    return out


def pull_device(owner: Handle, lay: int, n_id: Any, out: Optional["torch.Tensor"], dtype: "torch.dtype",
                d: int, dev: "torch.device") -> "torch.Tensor":
    """``H[lay][n_id]`` of a device store as a ``[M, d]`` CUDA tensor (current stream)."""
    idx = _ids_on(n_id, dev)
    out = _out(out, idx.shape[0], dtype, d, dev)
    if idx.numel():
        call(engine.HistoryPullDevice, owner.value, lay, ptr(idx, torch.int64, None, "n_id"), idx.shape[0],
             ptr(out, dtype, idx.shape[0] * d, "out"), _stream(dev))
    return out


def push_device(owner: Handle, lay: int, x: "torch.Tensor", n_id: Any, dtype: "torch.dtype", d: int,
                dev: "torch.device") -> None:
    """``H[lay][n_id] = x`` for a device store (``x``: ``[M, d]`` CUDA, distinct ids)."""
    idx = _ids_on(n_id, dev)
    x = _cuda_rows(x, "x", dtype, d, dev).detach()
    if x.shape[0] != idx.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but n_id has {idx.shape[0]} ids")
    if idx.numel():
        call(engine.HistoryPushDevice, owner.value, lay, ptr(x, dtype, idx.shape[0] * d, "x"),
             ptr(idx, torch.int64, None, "n_id"), idx.shape[0], _stream(dev))


class PendingPull:
    """An asynchronous pull in flight (:meth:`HistoryStore.pull_async`).

    It holds the ids and the output until :meth:`wait`; dropping it
    without waiting waits (when the engine frees it)."""

    def __init__(self, handle: Optional[Handle], idx: "torch.Tensor", out: "torch.Tensor", store: Any) -> None:
        self._handle, self._idx, self.out, self._store = handle, idx, out, store

    def wait(self) -> "torch.Tensor":
        """Blocks until the rows are in ``out`` (``[M, d]`` CUDA) and returns
        it; work queued on the current stream from now on sees them."""
        if self._handle is not None:
            call(engine.HistoryWait, self._handle.value)
            self._handle.close()
            self._handle = None
        return self.out

    def __repr__(self) -> str:
        return f"PendingPull(rows={self.out.shape[0]}, done={self._handle is None})"


def pull_async(owner: Handle, store: Any, lay: int, n_id: Any, out: Optional["torch.Tensor"], dtype: "torch.dtype",
               d: int, dev: "torch.device") -> PendingPull:
    """Starts copying ``H[lay][n_id]`` of a pinned store to a CUDA tensor."""
    idx = as_index(n_id, "n_id")
    if is_tensor(idx) and idx.device.type != "cpu":
        raise ValueError(f"n_id is on {idx.device}; pull_async gathers on the CPU: pass n_id.cpu()")
    if not is_tensor(idx):
        idx = torch.from_numpy(idx)
    out = _out(out, idx.shape[0], dtype, d, dev)
    if not idx.numel():
        return PendingPull(None, idx, out, store)
    h = call(engine.HistoryPullAsync, owner.value, lay, ptr(idx, torch.int64, None, "n_id"), idx.shape[0],
             ptr(out, dtype, idx.shape[0] * d, "out"), _stream(dev))
    return PendingPull(Handle(h), idx, out, store)
