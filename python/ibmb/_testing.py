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


# Memory checks (tests/test_out_of_core.py, benchmarks/bench_out_of_core.py): what the kernel says this process holds.

def proc_status(keys: tuple[str, ...] = ("VmRSS", "VmHWM", "RssAnon", "RssFile")) -> dict[str, int]:
    """The named fields of ``/proc/self/status`` in bytes (Linux)."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0]) * 1024
    return out


def map_rss(name: str) -> int:
    """Resident bytes of this process's mappings of the file ``name`` (a real path), from ``/proc/self/smaps``."""
    import re

    total, cur = 0, None
    with open("/proc/self/smaps") as fh:
        for line in fh:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split(maxsplit=5)
                cur = parts[5].strip() if len(parts) > 5 else ""
            elif line.startswith("Rss:") and cur == name:
                total += int(line.split()[1]) * 1024
    return total


def run_script(path: str, args: list[str], env: dict[str, str], cwd: str, timeout: float) -> tuple[int, str, str]:
    """Run the Python script ``path`` in a session of its own (so a hung run's children go with it); returns
    ``(returncode, stdout, stderr)``, or raises ``AssertionError`` naming the timeout after killing the session."""
    import os
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"hung for {timeout} s; output so far: {out[-500:]!r} {err[-2000:]!r}") from None
    return proc.returncode, out, err
