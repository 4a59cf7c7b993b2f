"""GPU profiling through NVML: :func:`ibmb.profile`.

The engine samples an NVIDIA GPU on a background thread (a Go goroutine, so
the GIL is not held) while a block of code or a function runs: utilization,
memory used by the device and by this process, power, energy, clocks and PCIe
throughput. NVML (``libnvidia-ml.so.1``, part of the NVIDIA driver) is loaded
at run time; on a machine without it profiling is skipped with one warning
(or raises with ``strict=True``), so the same job runs everywhere.

Example::

    with ibmb.profile(device=0, interval=0.05) as prof:
        train(model, loader)
    print(prof.summary.peak_memory_bytes / 2**30, "GiB")
    prof.plot("gpu.png")

    @ibmb.profile
    def epoch():
        ...
    epoch()
    print(epoch.profile.summary.energy_j, "J")

Values are floats in the unit their name carries (``_bytes``, ``_w``,
``_j``, ``_mhz``, ``_per_s``; utilization in percent); ``nan`` means the
device did not report the value.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar, Union

import numpy as np

from ibmb._arrays import ptr
from ibmb._native import EngineError, Handle, UnavailableError, call, engine

__all__ = ["profile", "Profile", "ProfileSummary"]

F = TypeVar("F", bound=Callable[..., Any])

_NAN = float("nan")


@dataclass(frozen=True)
class ProfileSummary:
    """Summary of one profiled run.

    Every statistic skips the samples in which its value was not reported and
    is ``nan`` when none reported it (and when profiling was unavailable).

    Attributes:
        duration_s (float): time from start to stop, seconds.
        samples (int): number of samples taken (0 when unavailable).
        memory_total_bytes (float): the device's memory.
        start_memory_bytes (float): device memory in use by all processes at
            the start; ``peak_memory_bytes - start_memory_bytes`` is what the
            run added.
        peak_memory_bytes (float): most device memory in use by all
            processes in any sample.
        peak_process_memory_bytes (float): most device memory this process
            used in any sample (0 when it had no CUDA context on the device;
            also 0 when the process runs in a PID namespace that NVML does
            not see into, as in some containers).
        mean_gpu_util (float), max_gpu_util (float): GPU utilization, percent
            of NVML's sample period in which a kernel ran.
        mean_memory_util (float), max_memory_util (float): percent of the
            period in which device memory was read or written.
        energy_j (float): energy used from start to stop, joules.
        energy_from_counter (bool): True when ``energy_j`` comes from the
            device's energy counter, False when it integrates the power
            samples.
        mean_power_w (float), max_power_w (float): power draw, watts.
        mean_sm_clock_mhz (float), max_sm_clock_mhz (float): SM clock.
        mean_pcie_tx_bytes_per_s (float), mean_pcie_rx_bytes_per_s (float):
            PCIe throughput (``nan`` with ``pcie=False``).
    """

    duration_s: float
    samples: int
    memory_total_bytes: float
    start_memory_bytes: float
    peak_memory_bytes: float
    peak_process_memory_bytes: float
    mean_gpu_util: float
    max_gpu_util: float
    mean_memory_util: float
    max_memory_util: float
    energy_j: float
    energy_from_counter: bool
    mean_power_w: float
    max_power_w: float
    mean_sm_clock_mhz: float
    max_sm_clock_mhz: float
    mean_pcie_tx_bytes_per_s: float
    mean_pcie_rx_bytes_per_s: float

    def as_dict(self) -> dict[str, Union[float, int, bool]]:
        """The summary as a plain dict (e.g. for a logger)."""
        return dataclasses.asdict(self)

    @classmethod
    def empty(cls) -> "ProfileSummary":
        """The summary of a run that took no samples: zeros and ``nan``."""
        values: dict[str, Any] = {f.name: _NAN for f in dataclasses.fields(cls)}
        values.update(duration_s=0.0, samples=0, energy_from_counter=False)
        return cls(**values)


def _names(s: str) -> tuple[str, ...]:
    return tuple(s.split(","))


# The engine fixes the order of the summary values and series columns
# (bindings/profile.go); read the names from it.
_SUMMARY_FIELDS: tuple[str, ...] = _names(engine.ProfileSummaryFields())
_SERIES_FIELDS: tuple[str, ...] = _names(engine.ProfileSeriesFields())

_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(reason: str) -> None:
    """Warn that profiling is off, once per process and reason."""
    with _warned_lock:
        if reason in _warned:
            return
        _warned.add(reason)
    warnings.warn(f"ibmb.profile: GPU profiling is off: {reason}", RuntimeWarning, stacklevel=4)


def _empty_series() -> dict[str, np.ndarray]:
    return {name: np.empty(0, dtype=np.float64) for name in _SERIES_FIELDS}


class Profile:
    """A GPU profiling run; what :func:`ibmb.profile` returns.

    Use it as a context manager (``with``), as a decorator, or through
    :meth:`start` and :meth:`stop`. The results are set by :meth:`stop`
    (on leaving the ``with`` block).

    Attributes:
        device (int): NVML index of the profiled device (nvidia-smi's order;
            CUDA's order can differ unless
            ``CUDA_DEVICE_ORDER=PCI_BUS_ID``, and ``CUDA_VISIBLE_DEVICES``
            does not apply).
        interval (float): seconds between samples.
        strict (bool): raise :class:`ibmb.UnavailableError` when NVML is
            unavailable instead of warning.
        pcie (bool): read PCIe throughput (each read blocks NVML for 20 ms
            per direction; turn off to sample faster than every ~50 ms).
        available (bool): whether profiling ran (set by :meth:`start`).
        reason (str): why it did not (``""`` when it did; ``"not started"``
            before :meth:`start`).
        device_name (str): the device's product name (``""`` when
            unavailable).
        summary (ProfileSummary): the run's summary; all ``nan`` and 0
            samples until stopped, and when unavailable.
        series (dict[str, numpy.ndarray]): the samples, one float64 array per
            column: ``time_s`` (seconds since start), ``gpu_util``,
            ``memory_util`` (percent), ``memory_used_bytes``,
            ``memory_total_bytes``, ``process_memory_bytes``, ``power_w``,
            ``energy_j`` (since start), ``sm_clock_mhz``,
            ``memory_clock_mhz``, ``pcie_tx_bytes_per_s``,
            ``pcie_rx_bytes_per_s``. Empty arrays when unavailable.
    """

    def __init__(self, device: int = 0, interval: float = 0.05, *, strict: bool = False, pcie: bool = True) -> None:
        if isinstance(device, bool) or not isinstance(device, (int, np.integer)) or device < 0:
            raise ValueError(f"device must be a non-negative int (an NVML device index), got {device!r}")
        try:
            interval = float(interval)
        except (TypeError, ValueError):
            raise ValueError(f"interval must be a number of seconds, got {interval!r}") from None
        if not (math.isfinite(interval) and interval >= 0.001):
            raise ValueError(f"interval must be at least 0.001 s (1 ms), got {interval!r}")
        self.device: int = int(device)
        self.interval: float = interval
        self.strict: bool = bool(strict)
        self.pcie: bool = bool(pcie)
        self.available: bool = False
        self.reason: str = "not started"
        self.device_name: str = ""
        self.summary: ProfileSummary = ProfileSummary.empty()
        self.series: dict[str, np.ndarray] = _empty_series()
        self._handle: Optional[Handle] = None  # the engine sampler while running
        self._lock = threading.Lock()

    # -- running -------------------------------------------------------------

    def start(self) -> "Profile":
        """Start sampling (forgetting the results of an earlier run).

        Returns:
            self.

        Raises:
            ibmb.UnavailableError: NVML or the device is unavailable and
                ``strict`` is set (otherwise a ``RuntimeWarning`` is issued
                once per process and reason, and :attr:`available` is False).
            RuntimeError: the run is already started.
        """
        with self._lock:
            if self._handle is not None:
                raise RuntimeError("ibmb.profile: this run is already started; stop it first")
            self.summary, self.series, self.device_name = ProfileSummary.empty(), _empty_series(), ""
            try:
                h = call(engine.ProfileStart, self.device, self.interval * 1000.0, not self.pcie)
            except UnavailableError as e:
                self.available, self.reason = False, str(e)
                if self.strict:
                    raise
                _warn_once(self.reason)
                return self
            self._handle = Handle(h)
            self.available, self.reason = True, ""
            self.device_name = str(call(engine.ProfileDevice, self._handle.value))
            return self

    def stop(self) -> "Profile":
        """Stop sampling and fill :attr:`summary` and :attr:`series`.

        A no-op when not running (never started, stopped already, or
        unavailable).

        Returns:
            self.

        Raises:
            ibmb.EngineError: sampling failed inside the engine; the samples
                taken before the failure are kept.
        """
        with self._lock:
            owner, self._handle = self._handle, None
            if owner is None:
                return self
            try:
                h = owner.value
                err: Optional[Exception] = None
                try:
                    call(engine.ProfileStop, h)
                except RuntimeError as e:  # the summary of the samples taken is still there
                    err = e
                self.summary = self._read_summary(h)
                self.series = self._read_series(h)
            finally:
                owner.close()
            if err is not None:
                raise err
            return self

    @staticmethod
    def _read_summary(h: int) -> ProfileSummary:
        names = tuple(f.name for f in dataclasses.fields(ProfileSummary))
        if names != _SUMMARY_FIELDS:
            raise EngineError(f"engine summary fields {_SUMMARY_FIELDS} do not match ProfileSummary {names}: "
                              "reinstall ibmb")
        buf = np.empty(len(_SUMMARY_FIELDS), dtype=np.float64)
        call(engine.ProfileSummary, h, ptr(buf, np.float64, None, "summary", True), buf.size)
        values: dict[str, Any] = dict(zip(_SUMMARY_FIELDS, buf.tolist()))
        values["samples"] = int(values["samples"])
        values["energy_from_counter"] = bool(values["energy_from_counter"])
        return ProfileSummary(**values)

    @staticmethod
    def _read_series(h: int) -> dict[str, np.ndarray]:
        n = int(call(engine.ProfileSeriesLen, h))
        buf = np.empty((n, len(_SERIES_FIELDS)), dtype=np.float64)
        rows = int(call(engine.ProfileSeriesCopy, h, ptr(buf, np.float64, None, "series", True), n))
        return {name: np.ascontiguousarray(buf[:rows, i]) for i, name in enumerate(_SERIES_FIELDS)}

    def __enter__(self) -> "Profile":
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.stop()
        except RuntimeError:
            if exc_type is None:  # never hide the body's own exception
                raise

    def __call__(self, fn: F) -> F:
        """Decorate ``fn`` so that each call is profiled.

        Each call runs under a fresh :class:`Profile` with this one's
        settings; after the call, ``fn.profile`` (on the returned wrapper)
        is that run, and this object holds a copy of its results. ``fn``'s
        return value is unchanged.
        """
        if not callable(fn):
            raise TypeError(f"ibmb.profile decorates a callable, got {type(fn).__name__}")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            run = Profile(self.device, self.interval, strict=self.strict, pcie=self.pcie)
            try:
                with run:
                    return fn(*args, **kwargs)
            finally:
                wrapper.profile = run  # type: ignore[attr-defined]
                self.available, self.reason, self.device_name = run.available, run.reason, run.device_name
                self.summary, self.series = run.summary, run.series

        wrapper.profile = self  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        if self._handle is not None:
            state = "running"
        elif not self.available:
            state = f"unavailable: {self.reason}"
        else:
            s = self.summary
            state = (f"{s.samples} samples in {s.duration_s:.3g} s, peak memory {s.peak_memory_bytes / 2**30:.3g} GiB, "
                     f"max GPU util {s.max_gpu_util:.3g}%")
        return f"Profile(device={self.device}, interval={self.interval}, {state})"

    # -- plotting ------------------------------------------------------------

    def plot(self, path: Union[str, Path]) -> Path:
        """Write a figure of memory used and utilization over time.

        Top: device memory in use (all processes) and this process's memory,
        in GiB, with the device's total; bottom: GPU and memory utilization
        in percent. When profiling was unavailable or took no samples, the
        figure says why instead, so that a job goes on.

        Args:
            path: output file; PNG unless its suffix names another format
                matplotlib writes (``.svg``, ``.pdf``, ...).

        Returns:
            The path written.

        Raises:
            ImportError: matplotlib is not installed.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as e:
            raise ImportError("ibmb.Profile.plot needs matplotlib: pip install matplotlib") from e
        path = Path(path)
        s = self.series
        t = s["time_s"]
        fig = Figure(figsize=(8, 5.5), layout="constrained")
        title = f"GPU {self.device}" + (f": {self.device_name}" if self.device_name else "")
        if len(t) == 0:
            why = self.reason if not self.available else "no samples"
            fig.suptitle(title)
            fig.text(0.5, 0.5, f"no GPU profile:\n{why}", ha="center", va="center", wrap=True)
        else:
            gib = float(2**30)
            mem, util = fig.subplots(2, 1, sharex=True)
            mem.plot(t, s["memory_used_bytes"] / gib, label="device (all processes)")
            mem.plot(t, s["process_memory_bytes"] / gib, label="this process")
            total = self.summary.memory_total_bytes
            if math.isfinite(total):
                mem.axhline(total / gib, color="grey", linestyle="--", linewidth=1, label="total")
            mem.set_ylabel("memory used [GiB]")
            mem.set_ylim(bottom=0)
            mem.legend(loc="best", fontsize="small")
            util.plot(t, s["gpu_util"], label="GPU")
            util.plot(t, s["memory_util"], label="memory")
            util.set_ylabel("utilization [%]")
            util.set_ylim(0, 105)
            util.set_xlabel("time [s]")
            util.legend(loc="best", fontsize="small")
            sm = self.summary
            fig.suptitle(f"{title}  ({sm.duration_s:.3g} s, peak {sm.peak_memory_bytes / gib:.3g} GiB, "
                         f"{sm.energy_j:.3g} J)")
        fig.savefig(path, format=None if path.suffix else "png", dpi=100)
        return path


def profile(device: Union[int, Callable[..., Any]] = 0, interval: float = 0.05, *, strict: bool = False,
            pcie: bool = True) -> Any:
    """Profile an NVIDIA GPU while code runs (through NVML).

    Usable as a context manager, yielding a :class:`Profile`::

        with ibmb.profile(device=0, interval=0.05) as prof:
            ...
        prof.summary.peak_memory_bytes, prof.summary.energy_j, prof.series["gpu_util"]

    and as a decorator, with or without arguments; each call is profiled and
    ``fn.profile`` is the last call's :class:`Profile`::

        @ibmb.profile
        def step(): ...

        @ibmb.profile(interval=0.01)
        def epoch(): ...

    Args:
        device: NVML index of the device (default: 0). nvidia-smi's order;
            CUDA's can differ unless ``CUDA_DEVICE_ORDER=PCI_BUS_ID``.
        interval: seconds between samples, at least 0.001 (default: 0.05).
            NVML refreshes utilization only every 1/6 s to 1 s.
        strict: raise :class:`ibmb.UnavailableError` when NVML or the device
            is unavailable (default: False: warn once per process and reason,
            and return a run with ``available=False``, an empty series and a
            ``nan`` summary, so that the job goes on).
        pcie: read PCIe throughput (default: True); each sample then takes
            about 40 ms of NVML time.

    Returns:
        A :class:`Profile` (a decorated function when ``device`` is a
        callable, i.e. ``@ibmb.profile`` without parentheses).

    Raises:
        ValueError: a negative device or an interval below 1 ms.
        ibmb.UnavailableError: with ``strict=True``, on entering the block or
            calling the function, when NVML is unavailable; the message says
            why (e.g. ``"NVML unavailable: libnvidia-ml.so.1 not found: ..."``).
    """
    if callable(device) and not isinstance(device, (int, np.integer)):
        return Profile(0, interval, strict=strict, pcie=pcie)(device)
    return Profile(device, interval, strict=strict, pcie=pcie)  # type: ignore[arg-type]
