"""Waiting for engine jobs: progress bars and Ctrl-C.

Long engine work (PPR, partitioning, batching, arena build and save) runs as
a job on the engine's own goroutines. Python polls it with short calls
instead of blocking in one long call, so the main thread stays responsive to
signals: on Ctrl-C (or any exception while waiting) the job is cancelled,
waited for (the engine's loops check for cancellation every few
milliseconds) and freed before ``KeyboardInterrupt`` propagates, so no work
keeps running in the background.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TypeVar

import numpy as np

from ibmb._native import call, engine

T = TypeVar("T")


# Longest slice of one blocking wait: Ctrl-C is noticed within this, and a
# progress bar is redrawn this often.
_SLICE_MS = 50


def wait(handle: int, desc: str, progress: Optional[bool]) -> None:
    """Wait for engine job ``handle`` to finish, then raise its error, if any.

    Waits in slices of at most 50 ms inside the engine (GIL released), so a
    finished job returns at once and Ctrl-C is noticed within a slice.
    ``progress=None`` shows a tqdm bar only when stderr is a terminal and the
    job runs longer than half a second. If waiting is interrupted (Ctrl-C),
    the job is cancelled and waited for before the exception propagates; the
    caller still frees the handle.
    """
    state = np.zeros(3, dtype=np.int64)
    bar = None
    show = sys.stderr.isatty() if progress is None else bool(progress)
    start = time.perf_counter()
    try:
        while not call(engine.JobWaitFor, handle, _SLICE_MS):
            if not show:
                continue
            call(engine.JobPoll, handle, state.ctypes.data)
            if bar is None and (progress or time.perf_counter() - start > 0.5):
                try:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=int(state[1]) or None, desc=desc, unit="node", leave=False)
                except ImportError:
                    show = False
            if bar is not None:
                if state[1] and bar.total != state[1]:
                    bar.total = int(state[1])
                bar.update(int(state[0]) - bar.n)
        if bar is not None:
            call(engine.JobPoll, handle, state.ctypes.data)
            bar.update(int(state[0]) - bar.n)
    except BaseException:
        # Stop the work before letting the exception (usually Ctrl-C) go on.
        try:
            call(engine.JobCancel, handle)
            while not call(engine.JobWaitFor, handle, _SLICE_MS):
                pass
        except BaseException:  # a second Ctrl-C while cancelling: the job is cancelled anyway
            pass
        raise
    finally:
        if bar is not None:
            bar.close()
    call(engine.JobWait, handle)


def run(start: Callable[[], int], collect: Callable[[int], T], desc: str, progress: Optional[bool] = False) -> T:
    """Start a job with ``start()``, wait for it (see :func:`wait`), return
    ``collect(handle)`` and free the job whatever happens."""
    h = start()
    try:
        wait(h, desc, progress)
        return collect(h)
    finally:
        call(engine.Free, h)

