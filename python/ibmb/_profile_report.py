"""What a profiled run reports: :class:`ProfileSummary` and the plot of
its series (split from :mod:`ibmb.profiling`, which samples)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

__all__ = ["ProfileSummary", "plot_profile"]

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



def plot_profile(prof: Any, path: Union[str, Path]) -> Path:
    """Writes the figure :meth:`ibmb.profiling.Profile.plot` describes for
    the run ``prof`` to ``path``."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("ibmb.Profile.plot needs matplotlib: pip install matplotlib") from e
    path = Path(path)
    s = prof.series
    t = s["time_s"]
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    title = f"GPU {prof.device}" + (f": {prof.device_name}" if prof.device_name else "")
    if len(t) == 0:
        why = prof.reason if not prof.available else "no samples"
        fig.suptitle(title)
        fig.text(0.5, 0.5, f"no GPU profile:\n{why}", ha="center", va="center", wrap=True)
    else:
        gib = float(2**30)
        mem, util = fig.subplots(2, 1, sharex=True)
        mem.plot(t, s["memory_used_bytes"] / gib, label="device (all processes)")
        mem.plot(t, s["process_memory_bytes"] / gib, label="this process")
        total = prof.summary.memory_total_bytes
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
        sm = prof.summary
        fig.suptitle(f"{title}  ({sm.duration_s:.3g} s, peak {sm.peak_memory_bytes / gib:.3g} GiB, "
                     f"{sm.energy_j:.3g} J)")
    fig.savefig(path, format=None if path.suffix else "png", dpi=100)
    return path
