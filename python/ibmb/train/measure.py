"""What a run measures: :class:`Result` (one method's figures),
:class:`PeakMemory`, :class:`Stopwatch` and :class:`ValCurve` (validation
accuracy against training time, and the time to the best validation
accuracy: the IBMB paper's convergence-per-runtime view).
"""
from __future__ import annotations

import gc
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = ["Result", "PeakMemory", "Stopwatch", "ValCurve", "sync"]


@dataclass
class Result:
    """What one method measured (over ``seeds`` runs: accuracies are means,
    times medians, memory maxima; ``test_acc_std`` the standard deviation).

    Times are seconds. ``time_to_best_val_s``: preprocessing plus training
    time (validation excluded) until the end of the epoch whose validation
    accuracy was the best; ``val_curve``: ``[training time s, validation
    accuracy]`` after every validated epoch (of the last seed), the time
    counted the same way.
    """

    method: str
    test_acc: float = float("nan")
    test_acc_std: float = float("nan")
    test_accs: list = field(default_factory=list)
    seeds: int = 0
    val_acc: float = float("nan")
    preprocess_s: float = float("nan")
    epoch_s: float = float("nan")
    loader_s: float = float("nan")  # per epoch: time waiting for batches (not in the model)
    train_s: float = float("nan")  # all epochs, validation excluded
    time_to_best_val_s: float = float("nan")
    best_epoch: int = 0
    infer_s: float = float("nan")
    infer_preprocess_s: float = float("nan")
    epochs: int = 0
    peak_train_bytes: int = 0
    peak_infer_bytes: int = 0
    cuda_peak_bytes: int = 0
    note: str = ""
    val_curve: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # not serialized: the trained model ("model")

    @property
    def available(self) -> bool:
        return not self.note.startswith("unavailable")


def sync(device: str) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


class Stopwatch:
    """Accumulates the wall time of ``with`` blocks (``total`` seconds),
    waiting for ``device``'s queued work at the end of each block."""

    def __init__(self, device: str = "cpu") -> None:
        self.device, self.total, self.last = device, 0.0, 0.0

    def __enter__(self) -> "Stopwatch":
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        sync(self.device)
        self.last = time.perf_counter() - self._t
        self.total += self.last


class ValCurve:
    """Validation accuracy against training time: :meth:`add` after each
    validated epoch; ``best`` keeps the first epoch of the highest accuracy."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.start_s = start_s  # time already spent (preprocessing)
        self.points: list[tuple[float, float]] = []
        self.best_acc, self.best_epoch, self.best_s = -1.0, 0, float("nan")

    def add(self, epoch: int, train_s: float, acc: float) -> bool:
        """Record ``acc`` after ``epoch`` (1-based) at ``train_s`` seconds of
        training; True when it is a new best."""
        t = self.start_s + train_s
        self.points.append((t, float(acc)))
        if acc > self.best_acc:
            self.best_acc, self.best_epoch, self.best_s = float(acc), epoch, t
            return True
        return False

    @staticmethod
    def time_to(points: list, acc: float) -> float:
        """First time in ``points`` at which validation accuracy reached
        ``acc`` (NaN when never)."""
        return next((t for t, a in points if a >= acc), math.nan)


class PeakMemory:
    """Peak resident memory (bytes above the start) of this process while the
    ``with`` block runs, sampled every 5 ms from /proc/self/statm; on CUDA also
    the peak of ``torch.cuda.max_memory_allocated``."""

    def __init__(self, device: str = "cpu") -> None:
        self.device, self.peak, self.cuda_peak = device, 0, 0

    @staticmethod
    def rss() -> int:
        """Resident bytes of this process now (0 where /proc is missing)."""
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:  # pragma: no cover - not Linux
            return 0

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        self._base = self.rss()
        self._max = self._base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self._max = max(self._max, self.rss())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()
        self._max = max(self._max, self.rss())
        self.peak = self._max - self._base
        if self.device.startswith("cuda"):
            import torch

            self.cuda_peak = int(torch.cuda.max_memory_allocated())


def progress_bar(total: int, desc: str, progress: Optional[bool]) -> Any:
    """A tqdm bar on stderr (None when ``progress`` is False, or None and
    stderr is not a terminal, or tqdm is missing)."""
    import sys

    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, leave=False)
