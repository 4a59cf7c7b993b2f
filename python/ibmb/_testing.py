"""Helpers shared by the test suite and the benchmarks (not public API).

The Ctrl-C checks (``tests/test_interrupt.py``, ``tests/test_arena_files.py``,
``benchmarks/bench_interrupt.py``) start a child process that runs a long
engine call, send it SIGINT while the call runs, and read back what the
child measured. The child's side is here, so that the test and the benchmark
measure the same way.
"""
from __future__ import annotations

import signal
import time
from typing import Any, Callable


def restore_sigint() -> None:
    """Make SIGINT raise ``KeyboardInterrupt`` again.

    A shell that starts a job in the background (``cmd &``) makes it ignore
    SIGINT, and Python then installs no handler: restoring Python's makes a
    check measure the engine, not the shell that started it.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def cpu_seconds() -> float:
    """The CPU time (user + system) this process has used, in seconds."""
    import resource  # POSIX only, like the checks that use it

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def interrupt_trial(call: Callable[[], Any], wait_s: float) -> dict:
    """Run ``call()``, which the parent interrupts with SIGINT while it runs.

    Returns ``{"interrupted": True, "t_exc": t, "cpu_after": c}`` where ``t``
    is ``time.monotonic()`` on catching ``KeyboardInterrupt`` (one clock for
    every process, so the parent subtracts the time it sent the signal) and
    ``c`` the CPU seconds this process used in the second after: near zero
    only if every engine worker stopped. When the call finishes first it
    returns ``{"interrupted": False, "seconds": s}`` (its run time) after
    waiting up to ``wait_s`` seconds for the trial's signal, so that the
    signal does not hit the next trial.
    """
    t0 = time.monotonic()
    try:
        call()
        out = {"interrupted": False, "seconds": time.monotonic() - t0}
        try:  # finished first: wait for this trial's signal before the next
            time.sleep(wait_s)
        except KeyboardInterrupt:
            pass
    except KeyboardInterrupt:
        t_exc = time.monotonic()
        c0 = cpu_seconds()
        time.sleep(1.0)
        out = {"interrupted": True, "t_exc": t_exc, "cpu_after": cpu_seconds() - c0}
    return out
