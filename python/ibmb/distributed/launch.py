"""Starting ranks and the process group: :func:`spawn` (N processes on this
machine, the ``spawn`` start method), :func:`init_from_env` (under
``torchrun`` or any launcher that sets ``RANK``/``WORLD_SIZE``/
``MASTER_ADDR``/``MASTER_PORT``), and :class:`Context`, what a rank knows
about the job.

Failure handling: every collective runs under the process group's timeout
(``timeout_s``), so a rank that waits for a dead or stuck peer raises
instead of hanging. A rank that raises leaves the job (its process exits
and its sockets close), so with gloo its peers usually fail at their next
collective within milliseconds, and at the latest after ``timeout_s``.
:func:`spawn` then collects every rank's error and raises one
:class:`DistributedError` naming each rank's exception.

Never ``fork``: the Go runtime of the engine does not survive it
(:class:`ibmb.ForkError`); :func:`spawn` always starts fresh interpreters.
"""
from __future__ import annotations

import datetime
import os
import socket
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

__all__ = ["Context", "DistributedError", "spawn", "stop", "init_from_env", "env_world_size", "current", "shutdown",
           "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 300.0
"""Seconds a collective waits for its peers before it raises (``--dist-timeout``)."""

_CURRENT: Optional["Context"] = None


class DistributedError(RuntimeError):
    """One or more ranks failed. ``errors`` maps rank -> its exception text
    (the traceback's last line first), ``tracebacks`` rank -> the full
    traceback; ranks that were still running when the job was given up are
    listed with "killed after ... s"."""

    def __init__(self, errors: dict, tracebacks: dict) -> None:
        self.errors, self.tracebacks = dict(sorted(errors.items())), dict(sorted(tracebacks.items()))
        lines = [f"rank {r}: {e}" for r, e in self.errors.items()]
        super().__init__(f"{len(self.errors)} of the job's ranks failed:\n  " + "\n  ".join(lines))


@dataclass
class Context:
    """One rank's view of the job.

    ``rank`` in ``[0, world_size)``; ``local_rank`` the index on its machine
    (selects the CUDA device); ``backend`` "gloo" or "nccl"; ``group`` a gloo
    group over all ranks for CPU tensors (the default group itself under
    gloo; a second one under nccl, for the feature exchange and gathers);
    ``timeout_s`` the collectives' timeout.
    """

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    backend: str
    timeout_s: float
    group: Any = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    """``WORLD_SIZE`` from the environment (1 when unset: not under torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ValueError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not an integer") from None


def current() -> Optional[Context]:
    """The context of this process's job, or None outside one."""
    return _CURRENT


def _init(rank: int, world: int, local_rank: int, local_world: int, device: str, timeout_s: float,
          init_method: str) -> Context:
    global _CURRENT
    import torch.distributed as dist

    if not dist.is_available():  # pragma: no cover - every torch wheel has it on Linux
        raise RuntimeError("torch.distributed is not available in this torch build")
    backend = "nccl" if str(device).startswith("cuda") else "gloo"
    timeout = datetime.timedelta(seconds=float(timeout_s))
    if backend == "nccl":
        import torch

        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world, timeout=timeout)
    group = dist.new_group(backend="gloo", timeout=timeout) if backend == "nccl" else dist.group.WORLD
    _CURRENT = Context(rank, world, local_rank, local_world, backend, float(timeout_s), group)
    return _CURRENT


def init_from_env(device: str = "cpu", timeout_s: float = DEFAULT_TIMEOUT_S) -> Context:
    """Join the job described by ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
    ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` (what
    ``torchrun`` sets); raises ValueError naming what is missing."""
    need = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if need:
        raise ValueError(f"a distributed job needs the environment variables {', '.join(need)} (torchrun sets "
                         "them), or use --nproc N to start N processes on this machine")
    rank, world = int(os.environ["RANK"]), env_world_size()
    local = int(os.environ.get("LOCAL_RANK", rank))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    return _init(rank, world, local, local_world, device, timeout_s, "env://")


def shutdown() -> None:
    """Leave the process group (if any) and forget the context."""
    global _CURRENT
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _CURRENT = None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, device: str, timeout_s: float, threads: int, fn: Callable,
            args: Sequence, results: Any) -> None:
    """A spawned rank: set threads, join the group, run ``fn(ctx, *args)``,
    report ``("ok", value)`` or ``("error", text, traceback)``."""
    try:
        if threads > 0:
            import torch

            import ibmb

            torch.set_num_threads(threads)
            ibmb.set_num_threads(threads)
        ctx = _init(rank, world, rank, world, device, timeout_s, f"tcp://127.0.0.1:{port}")
        value = fn(ctx, *args)
        results.put((rank, "ok", value, ""))
    except BaseException as e:  # noqa: BLE001 - every failure is reported to the parent, then the rank exits
        results.put((rank, "error", f"{type(e).__name__}: {e}".strip(), traceback.format_exc()))
        return
    try:
        shutdown()
    except Exception:  # pragma: no cover - the job's result is in; leaving the group is best effort
        pass


STOP_GRACE_S = 2.0
"""Seconds :func:`stop` waits after SIGTERM before it kills a rank."""


def stop(procs: Sequence[Any], grace_s: float = STOP_GRACE_S) -> None:
    """End the rank processes ``procs`` (``multiprocessing.Process``) now:
    SIGTERM to each, then SIGKILL to those still alive after ``grace_s``;
    every one is joined (reaped), so none is left behind."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + float(grace_s)
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def spawn(fn: Callable[..., Any], nproc: int, args: Sequence = (), *, device: str = "cpu",
          timeout_s: float = DEFAULT_TIMEOUT_S, threads: int = 0, grace_s: Optional[float] = None) -> list:
    """Run ``fn(ctx, *args)`` on ``nproc`` ranks, each a fresh process (start
    method ``spawn``) joined to a process group on 127.0.0.1 (gloo, or nccl
    when ``device`` is CUDA: rank r uses ``cuda:r``). ``fn`` and ``args``
    must be picklable (``fn`` a module-level function). ``threads``: torch
    and engine threads per rank (0: cores // nproc, at least 1).

    Returns every rank's return value, in rank order. Ctrl-C (SIGINT) in
    this process ends every rank (:func:`stop`: SIGTERM, SIGKILL after
    ``STOP_GRACE_S``; a rank blocked in a collective or an engine call
    cannot run Python's SIGINT handler, and ranks started from a shell's
    background job ignore SIGINT) and re-raises ``KeyboardInterrupt`` here.
    Raises :class:`DistributedError` when any rank raises: the other ranks get
    ``grace_s`` (default ``timeout_s`` + 30) seconds to end on their own (a
    collective with a missing peer raises within ``timeout_s``) and are
    killed after that, so the call never hangs.
    """
    import multiprocessing as mp

    if nproc < 1:
        raise ValueError(f"nproc must be >= 1, got {nproc}")
    if threads <= 0:
        threads = max(1, (os.cpu_count() or 1) // nproc)
    grace = float(timeout_s) + 30.0 if grace_s is None else float(grace_s)
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    port = free_port()
    procs = [ctx.Process(target=_worker, args=(r, nproc, port, device, timeout_s, threads, fn, tuple(args), results),
                         name=f"ibmb-rank{r}", daemon=False) for r in range(nproc)]
    for p in procs:
        p.start()
    values: dict = {}
    errors: dict = {}
    tracebacks: dict = {}
    deadline: Optional[float] = None
    interrupted = False
    try:
        while len(values) + len(errors) < nproc:
            while not results.empty():
                rank, kind, value, tb = results.get()
                if kind == "ok":
                    values[rank] = value
                else:
                    errors[rank], tracebacks[rank] = value, tb
                    if deadline is None:
                        deadline = time.monotonic() + grace
            for r, p in enumerate(procs):  # a rank that died without a word (killed, segfault)
                if r not in values and r not in errors and p.exitcode is not None and results.empty():
                    errors[r] = f"exited with status {p.exitcode} without a result"
                    tracebacks[r] = ""
                    if deadline is None:
                        deadline = time.monotonic() + grace
            if deadline is not None and time.monotonic() > deadline:
                for r in range(nproc):
                    if r not in values and r not in errors:
                        errors[r] = f"still running {grace:.0f} s after another rank failed: killed"
                        tracebacks[r] = ""
                break
            time.sleep(0.02)
    except KeyboardInterrupt:  # Ctrl-C in the launcher: end every rank, then re-raise
        interrupted = True
        raise
    finally:
        if interrupted:
            stop(procs)
        for p in procs:
            p.join(timeout=5 if not errors else 0.5)
            if p.is_alive():
                p.kill()
                p.join()
    if errors:
        raise DistributedError(errors, tracebacks)
    return [values[r] for r in range(nproc)]
