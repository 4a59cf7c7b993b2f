"""Waiting for engine jobs with an optional progress bar."""
from __future__ import annotations

import sys
import time
from typing import Optional

import numpy as np

from ibmb._native import call, engine


def wait(handle: int, desc: str, progress: Optional[bool]) -> None:
    """Wait for engine job ``handle`` to finish, then raise its error, if any.

    Polls the job instead of blocking in one engine call, so Ctrl-C works and a
    tqdm progress bar can be drawn. ``progress=None`` shows the bar only when
    stderr is a terminal and the job runs longer than half a second.
    """
    state = np.zeros(3, dtype=np.int64)
    bar = None
    show = sys.stderr.isatty() if progress is None else bool(progress)
    start = time.perf_counter()
    pause = 2e-4
    try:
        while True:
            call(engine.JobPoll, handle, state.ctypes.data)
            if state[2]:
                break
            if show and bar is None and (progress or time.perf_counter() - start > 0.5):
                try:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=int(state[1]) or None, desc=desc, unit="node", leave=False)
                except ImportError:
                    show = False
            if bar is not None:
                if state[1] and bar.total != state[1]:
                    bar.total = int(state[1])
                bar.update(int(state[0]) - bar.n)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        if bar is not None:
            bar.update(int(state[0]) - bar.n)
    finally:
        if bar is not None:
            bar.close()
    call(engine.JobWait, handle)
