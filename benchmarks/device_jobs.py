"""The parts of benchmarks/device_check.py that run ibmb's jobs: loaders on
the device (batches, prefetch overlap, page-locked memory), the NVML profiler
against nvidia-smi, `ibmb train --device cuda --profile-gpu` (the histories part is
device_hist.py). Conventions: see device_parts.py.
"""
from __future__ import annotations

import contextlib
import gc
import io
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from device_parts import Ctx, _median_s, _result, _same_bits, _torch_gpu


def _mem_available() -> int:
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))


def _host_registered(address: int) -> bool:
    """Whether the CUDA driver still has host memory registered at ``address`` (cuMemHostGetFlags succeeds)."""
    import ctypes

    flags = ctypes.c_uint(0)
    return ctypes.CDLL("libcuda.so.1").cuMemHostGetFlags(ctypes.byref(flags), ctypes.c_void_p(address)) == 0


def _count_host_register(counts: dict) -> str:
    """Count cudaHostRegister/Unregister calls made through torch's runtime bindings; '' or why not."""
    import torch

    try:
        rt = torch.cuda.cudart()
        for name in ("Register", "Unregister"):
            orig = getattr(rt, f"cudaHost{name}")

            def counted(*a: Any, _orig: Any = orig, _name: str = name.lower()) -> Any:
                err = _orig(*a)
                counts[_name] += 1
                counts[f"{_name}_ok"] += int(getattr(err, "value", err)) == 0
                return err

            setattr(rt, f"cudaHost{name}", counted)
        return ""
    except (AttributeError, TypeError, RuntimeError) as e:
        return f"cannot count torch.cuda.cudart() calls: {e}"


def part_loaders(ctx: Ctx) -> dict:
    """Loaders on device='cuda': batches equal the CPU loader's, prefetch overlaps batch preparation with the
    model, and page-locked memory is released (no registration left after a loader is dropped, cudaHostRegister
    and cudaHostUnregister paired, engine handles back to where they were)."""
    import ibmb
    from ibmb import data as D
    from ibmb._native import call, engine

    why = "" if ctx.dry else _torch_gpu()
    dev = "cpu" if ctx.dry or why else "cuda"
    data = D.load("default", num_nodes=ctx.size(500_000, 5_000), num_features=ctx.size(128, 16))
    train = data.train_mask.nonzero().view(-1)
    path = Path(tempfile.gettempdir()) / f"ibmb-device-check-{os.getpid()}.ibmb"
    ref = ibmb.IBMBNodeLoader(data, None, train, 16, ctx.size(1024, 128), alpha=0.25, eps=2e-4, norm="sym",
                              add_self_loops=True, progress=False)
    ref.save(path)
    cpu: dict = {"checks": {}, "batches": ref.num_batches, "arena_mib": ref.stats()["arena_bytes"] / 2**20}
    cpu["cpu_epoch_s"] = _median_s(lambda: [None for _ in ref], reps=3)
    counts = {"register": 0, "register_ok": 0, "unregister": 0, "unregister_ok": 0}
    no_count = _count_host_register(counts) if dev == "cuda" else ""
    checks: dict = {}
    fig: dict = {"host_register_counting": no_count or "torch.cuda.cudart()"} if dev == "cuda" else {}
    target = checks if dev == "cuda" else cpu["checks"]
    try:
        lo = ibmb.IBMBNodeLoader.load(path, data, batch_order=None, device=dev)
        pairs = list(zip(lo, ref))
        target["batches_equal_cpu_loader"] = len(pairs) == ref.num_batches and all(
            _same_bits(a[k].cpu(), b[k]) for a, b in pairs for k in ("x", "edge_index", "edge_weight", "y", "n_id"))
        del pairs
        if dev == "cuda":
            fig.update(_overlap(lo))
            checks["prefetch_overlaps_preparation_and_model"] = fig["overlap"] >= 0.25
        del lo
        # Leaks: build or load, iterate and drop loaders (arenas in allocated and in mapped memory); registrations,
        # handles and memory must come back.
        gc.collect()
        handles0, mem0, k, alive, after = call(engine.NumHandles), _mem_available(), ctx.size(4, 2), [], []
        for i in range(k):
            lo = (ibmb.IBMBNodeLoader.load(path, data, batch_order=None, device=dev) if i % 2 else
                  ibmb.IBMBNodeLoader(data, None, train, 16, ctx.size(1024, 128), alpha=0.25, eps=2e-4, norm="sym",
                                      add_self_loops=True, progress=False, device=dev))
            for _b in lo:
                pass
            address, nbytes = lo.arena.address, lo.arena.nbytes
            alive.append(dev == "cuda" and _host_registered(address))
            del lo, _b
            gc.collect()
            after.append(dev == "cuda" and _host_registered(address))
        leak = {"loaders": k, "arena_mib_each": nbytes / 2**20, "registered_while_alive": sum(alive),
                "registered_after_drop": sum(after), "engine_handles_delta": call(engine.NumHandles) - handles0,
                "mem_available_drop_mib": (mem0 - _mem_available()) / 2**20, **counts}
        target["engine_handles_released"] = leak["engine_handles_delta"] <= 0
        if dev == "cuda":
            fig["leak"] = leak
            checks["no_registration_left_after_drop"] = leak["registered_after_drop"] == 0
            if not no_count:
                checks["host_register_paired_with_unregister"] = counts["register_ok"] == counts["unregister_ok"]
                if counts["register_ok"]:  # else the check above is empty: the loader page-locked nothing
                    checks["registrations_seen_while_alive"] = leak["registered_while_alive"] > 0
        else:
            cpu["leak"] = leak
    finally:
        path.unlink(missing_ok=True)
    return _result(checks, fig, cpu, ctx, why)


def _overlap(loader: Any) -> dict:
    """Epoch times: loading alone, a synchronous GPU 'model step' alone (as long as loading one batch), and both,
    with the prefetch thread (prefetch=2) and without (prefetch=0). overlap = (load + model - both) / min: 1 when
    the prefetch thread hides the shorter of the two completely, 0 when nothing overlaps."""
    import torch

    nb = loader.num_batches

    def step(cycles: int) -> None:
        torch.cuda._sleep(cycles)
        torch.cuda.current_stream().synchronize()  # like a step that reads its loss: the main thread waits

    def epoch(cycles: int, prefetch: int) -> float:
        loader.prefetch = prefetch
        torch.cuda.synchronize()
        t = time.perf_counter()
        for b in loader:
            b.x.sum()
            if cycles:
                step(cycles)
        torch.cuda.synchronize()
        return time.perf_counter() - t

    load = min(epoch(0, 2) for _ in range(2))
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    torch.cuda._sleep(10**8)
    b.record()
    b.synchronize()
    cycles = max(1, int(10**8 * (load / nb) / (a.elapsed_time(b) / 1e3)))
    t = time.perf_counter()
    for _ in range(nb):
        step(cycles)
    model = time.perf_counter() - t
    both, serial = epoch(cycles, 2), epoch(cycles, 0)
    return {"batches": nb, "load_epoch_s": load, "model_epoch_s": model, "both_prefetch_s": both,
            "both_no_prefetch_s": serial, "overlap": max(0.0, (load + model - both) / min(load, model)),
            "overlap_without_prefetch": max(0.0, (load + model - serial) / min(load, model))}


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "[N/A]"
        return float("nan")


def part_nvml(ctx: Ctx) -> dict:
    """ibmb.profile (NVML) against nvidia-smi's samples over the same busy period."""
    import ibmb

    why = "" if ctx.dry else _torch_gpu()
    cpu: dict = {"checks": {}}
    if ctx.dry or why:
        with ibmb.profile(device=0, interval=0.1) as prof:
            time.sleep(0.2)
        cpu["profile_reason"] = prof.reason or "available"
        cpu["checks"]["unavailable_profile_says_why"] = prof.available or bool(prof.reason)
        return _result({}, {}, cpu, ctx, why or f"dry run; NVML here: {prof.reason or 'available'}")
    import torch

    smi_file = ctx.out / "nvidia-smi.csv"
    with open(smi_file, "w") as f:
        smi = subprocess.Popen(["nvidia-smi", "--query-gpu=timestamp,utilization.gpu,memory.used,power.draw,"
                                "clocks.sm", "--format=csv,nounits", "-lms", "100"], stdout=f, stderr=subprocess.STDOUT)
    time.sleep(1.0)
    t0 = time.time()
    with ibmb.profile(device=0, interval=0.1) as prof:  # PCIe reads block NVML ~40 ms per sample
        time.sleep(0.5)
        big = torch.empty(8 * 2**30, dtype=torch.uint8, device="cuda")  # 8 GiB more in use
        a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        end = time.time() + 4.0
        while time.time() < end:
            for _ in range(20):
                a @ a
            torch.cuda.synchronize()
        del big, a
        torch.cuda.empty_cache()
        time.sleep(0.5)
    t1 = time.time()
    time.sleep(0.3)
    smi.terminate()
    smi.wait()
    rows = []
    for line in smi_file.read_text().splitlines()[1:]:
        parts = [s.strip() for s in line.split(",")]
        try:
            day, frac = parts[0].split(".")
            ts = time.mktime(time.strptime(day, "%Y/%m/%d %H:%M:%S")) + float("0." + frac)
        except (ValueError, IndexError):
            continue
        if t0 <= ts <= t1 and len(parts) >= 5:
            rows.append([_num(v) for v in parts[1:5]])
    prof.plot(ctx.out / "nvml-profile.png")
    s = prof.summary
    smi_a = np.array(rows) if rows else np.full((1, 4), np.nan)
    fig = {"nvml_samples": s.samples, "smi_samples": len(rows), "smi_csv": smi_file.name,
           "nvml": {"mean_util": s.mean_gpu_util, "peak_mem_mib": s.peak_memory_bytes / 2**20,
                    "mean_power_w": s.mean_power_w, "max_sm_mhz": s.max_sm_clock_mhz, "energy_j": s.energy_j,
                    "peak_process_mem_mib": s.peak_process_memory_bytes / 2**20},
           "smi": {"mean_util": float(np.nanmean(smi_a[:, 0])), "peak_mem_mib": float(np.nanmax(smi_a[:, 1])),
                   "mean_power_w": float(np.nanmean(smi_a[:, 2])), "max_sm_mhz": float(np.nanmax(smi_a[:, 3]))}}
    n, m = fig["nvml"], fig["smi"]
    checks = {"samples_taken": s.samples >= 0.5 * (t1 - t0) / 0.1 and len(rows) >= 10,
              "peak_memory_agrees": abs(n["peak_mem_mib"] - m["peak_mem_mib"]) <= max(256, 0.02 * m["peak_mem_mib"]),
              "mean_util_agrees": abs(n["mean_util"] - m["mean_util"]) <= 15,
              "mean_power_agrees": abs(n["mean_power_w"] - m["mean_power_w"]) <= max(50, 0.15 * m["mean_power_w"]),
              "saw_the_8_gib": n["peak_mem_mib"] >= 8192}
    return _result(checks, fig, cpu, ctx)


def part_train(ctx: Ctx) -> dict:
    """`python -m ibmb train --device cuda --profile-gpu` on the 1M-node built-in graph, plots into the output."""
    why = "" if ctx.dry else _torch_gpu()
    gpu = not (ctx.dry or why)
    plot = ctx.out / ("train-acc.png" if gpu else f".dry-train-acc-{os.getpid()}.png")
    size = (["--nodes", "1000000", "--epochs", "10", "--eval-every", "5", "--val-nodes", "20000",
             "--outputs-per-batch", "1024"] if gpu else ["--nodes", "3000", "--features", "16", "--epochs", "2"])
    args = ["train", "--device", "cuda" if gpu else "cpu", "--profile-gpu", "--quiet", "--plot", str(plot), *size]
    print("+ python -m ibmb", " ".join(args), flush=True)
    from ibmb.cli import main  # in this part's own process: the same code as `python -m ibmb train ...`

    buf = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        rc = main(args)
    secs, text = time.perf_counter() - t, buf.getvalue()
    print(text, flush=True)
    row = next((line.split() for line in text.splitlines() if line.startswith("ibmb-node")), [])
    res = {"command": "python -m ibmb " + " ".join(args), "rc": rc, "seconds": secs,
           "test_acc": row[1] if len(row) > 1 else None}
    ok = {"train_rc_0": rc == 0, "accuracy_reported": len(row) > 1, "plot_written": plot.is_file(),
          "gpu_profile_reported": "GPU profile" in text}
    gpu_plot = plot.with_name(plot.stem + "-gpu.png")
    if gpu:
        ok["gpu_profile_plot_written"] = gpu_plot.is_file()
        res["profile"] = next((line for line in text.splitlines() if line.startswith("GPU profile:")), "")
        return _result(ok, res, {}, ctx)
    plot.unlink(missing_ok=True)
    gpu_plot.unlink(missing_ok=True)
    return _result({}, {}, {"checks": ok, **res}, ctx, why)

