"""Serving batches: the device check, page-locking an arena for CUDA copies,
and the prefetch pipeline.

With a CUDA device a prefetch thread prepares the next batches and copies them
to the GPU on a side stream (non-blocking copies from the page-locked arena)
while the model works on the current one; the consumer's stream waits on an
event per batch. On the CPU, zero-copy views need no thread; merged batches
or gathered features are prepared on the thread. Everything stays in this
process (forking a process that runs the Go runtime can hang).
"""
from __future__ import annotations

import queue
import threading
import weakref
from typing import Any, Callable, Iterable, Iterator

from ibmb import _native
from ibmb._arrays import is_tensor
from ibmb._native import Handle, UnavailableError
from ibmb.arena import Arena

__all__ = ["torch_device", "HostRegistration", "to_device", "wait_ready", "pipeline", "pull_halo"]


def torch_device(device: Any) -> Any:
    """``device`` as a torch.device; a CUDA device must be usable here."""
    import torch

    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"unsupported device {device!r}: use 'cpu', 'cuda' or 'cuda:N' ({e})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UnavailableError(f"device={str(device)!r} needs a CUDA GPU, but torch.cuda.is_available() is False "
                                   "(no GPU, no driver, or a CPU-only torch build)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UnavailableError(f"device={str(device)!r}: torch sees only {torch.cuda.device_count()} CUDA "
                                   "device(s)")
    elif dev.type != "cpu":
        raise ValueError(f"unsupported device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")
    return dev


def _unregister(address: int, owner: Handle) -> None:
    """Undo cudaHostRegister of ``address``. ``owner`` (the arena memory's
    Handle) is held until then, so the memory is unmapped only afterwards."""
    if _native._forked:  # no CUDA (nor engine) in a forked child; the memory goes with the process
        return
    try:
        import torch

        torch.cuda.synchronize()  # no copy from the pages may still be in flight
        torch.cuda.cudart().cudaHostUnregister(address)
    except Exception:  # pragma: no cover - depends on the CUDA runtime
        pass
    del owner


class HostRegistration:
    """Page-locks an arena (cudaHostRegister) so host-to-device copies need no
    staging, and unregisters it when this object goes, before the arena's
    memory can be freed (the finalizer holds the memory's Handle)."""

    def __init__(self, arena: Arena) -> None:
        import torch

        self.ok = False
        if arena.nbytes == 0:
            return
        try:
            err = torch.cuda.cudart().cudaHostRegister(arena.address, arena.nbytes, 0)
            self.ok = int(getattr(err, "value", err)) == 0
        except Exception:  # pragma: no cover - depends on the CUDA runtime
            self.ok = False
        if self.ok:
            weakref.finalize(self, _unregister, arena.address, arena._owner).atexit = False




def to_device(data: Any, device: Any, stream: Any, pinned: bool) -> tuple[Any, Any]:
    """``(data on device, event)``: copies every tensor of ``data`` on
    ``stream`` (from page-locked memory: ``pinned``, or a pinned copy) and
    records an event the consumer waits on; ``(data, None)`` on the CPU."""
    if device.type == "cpu":
        return data, None
    import torch

    with torch.cuda.stream(stream):
        for key, value in data:
            if is_tensor(value):
                src = value if pinned or value.is_cuda else value.pin_memory()
                data[key] = src.to(device, non_blocking=True)
            elif hasattr(value, "to") and not isinstance(value, (int, float)):
                data[key] = value.to(device, non_blocking=True)
        event = torch.cuda.Event()
        event.record(stream)
    return data, event


def wait_ready(data: Any, event: Any, device: Any) -> Any:
    """Makes the current stream wait for ``data``'s copies (``event``) and
    marks its tensors as used there."""
    if event is not None:
        import torch

        cur = torch.cuda.current_stream(device)
        cur.wait_event(event)
        for _, value in data:
            if is_tensor(value) and value.is_cuda:
                value.record_stream(cur)
    return data


def pull_halo(data: Any, histories: Any) -> Any:
    """Pulls the halo rows of halo batch ``data`` (``n_id``, ``num_exact``)
    from every layer of ``histories`` (an :class:`ibmb.HistoryStore`) into
    ``data.halo_rows``: a list of ``[H, d_l]`` CPU tensors, one per layer.

    Run on a prefetch thread, this overlaps the pulls of the next batch
    with the current batch's compute (GNNAutoScale's asynchronous pulls): the
    rows are then those of the histories when the pull ran, so rows that the
    current step pushes afterwards are missed (up to ``prefetch`` steps more
    stale than a pull at use); the store locks each layer, so a pull sees
    any push to that layer either whole or not at all.
    ``HistoryGNN.forward(..., halo_rows=data.halo_rows)`` uses them instead
    of pulling.
    """
    halo = data.n_id[int(data.num_exact):]
    data.halo_rows = [histories.pull(layer, halo) for layer in range(histories.num_layers)]
    return data


def pipeline(items: Iterable[Any], make: Callable[[Any], tuple[Any, Any]], ready: Callable[[Any, Any], Any],
             depth: int, threaded: bool) -> Iterator[Any]:
    """Yields ``ready(*make(item))`` for every item; with ``threaded`` and
    ``depth > 0`` a thread runs ``make`` up to ``depth`` items ahead.

    The thread never blocks for good (the consumer may stop reading: its
    ``break`` stops the thread, which is joined), and an exception raised by
    ``make`` is re-raised in the consumer.
    """
    if depth == 0 or not threaded:
        for item in items:
            yield ready(*make(item))
        return
    q: "queue.Queue[Any]" = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if stop.is_set() or not put(make(item)):
                    return
        except BaseException as e:  # handed to the consumer
            put(e)
            return
        put(done)

    t = threading.Thread(target=work, name="ibmb-prefetch", daemon=True)
    t.start()
    try:
        while True:
            got = q.get()
            if got is done:
                return
            if isinstance(got, BaseException):
                raise got
            yield ready(*got)
    finally:
        stop.set()
        t.join()
