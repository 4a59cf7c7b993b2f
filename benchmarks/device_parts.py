"""The parts of benchmarks/device_check.py; each runs in its own process.

A part returns ``{"status", "reason", "checks": {name: bool}, "figures": {...},
"cpu_reference": {...}}``. ``status`` is "pass" when every check holds, else
"fail"; device work is "skipped" (with the reason) in a dry run, where the CPU
reference is still computed and checked. Sizes are the GPU run's; the dry run
uses small ones so that it stays fast on a 2-core CI machine.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np


class Ctx:
    """What a part knows: dry run or not, the output folder, and sizes."""

    def __init__(self, dry: bool, out: Path) -> None:
        self.dry, self.out = dry, out

    def size(self, gpu: Any, dry: Any) -> Any:
        return dry if self.dry else gpu


def _torch_gpu() -> str:
    """'' when torch and ibmb can use a CUDA device, else why not."""
    import torch

    import ibmb

    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    why = ibmb.cuda_status()
    return f"ibmb's CUDA backend is unavailable: {why}" if why else ""


def _result(checks: dict, figures: dict, cpu: dict, ctx: Ctx, skip_reason: str = "") -> dict:
    bad = [k for k, v in {**checks, **cpu.get("checks", {})}.items() if not v]
    if bad:
        return {"status": "fail", "reason": "failed: " + ", ".join(bad), "checks": checks, "figures": figures,
                "cpu_reference": cpu}
    if ctx.dry or skip_reason:
        return {"status": "skipped", "reason": skip_reason or "dry run: no device work (CPU reference ran)",
                "checks": checks, "figures": figures, "cpu_reference": cpu}
    return {"status": "pass", "reason": "", "checks": checks, "figures": figures, "cpu_reference": cpu}


def _median_s(fn: Callable[[], Any], reps: int = 5, warm: int = 1, cuda: bool = False) -> float:
    """Median seconds of ``fn`` after warm-up (CUDA: timed by events on the current stream)."""
    import torch

    for _ in range(warm):
        fn()
    times = []
    for _ in range(reps):
        if cuda:
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b) / 1e3)
        else:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def _same_bits(a: Any, b: Any) -> bool:
    import torch

    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a.contiguous().view(torch.uint8),
                                                                     b.contiguous().view(torch.uint8))


# ---------------------------------------------------------------------- parts
def part_env(ctx: Ctx) -> dict:
    """Versions, the device, ibmb's CUDA status and the carried engine's sources."""
    import torch
    import torch_geometric

    import ibmb

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from device_check import ROOT, source_hash

    why = _torch_gpu()
    f: dict = {"python": sys.version.split()[0], "torch": torch.__version__, "torch_cuda": torch.version.cuda,
               "torch_geometric": torch_geometric.__version__, "ibmb": ibmb.__version__,
               "engine_threads": ibmb.num_threads(), "cpus": os.cpu_count(), "cuda_device": not why,
               "no_gpu_reason": why, "ibmb_cuda_status": ibmb.cuda_status() or "available",
               "nvrtc_dirs": os.environ.get("IBMB_NVRTC_DIRS", "")}
    checks = {}
    if not why:
        p = torch.cuda.get_device_properties(0)
        f.update(device=p.name, capability=f"{p.major}.{p.minor}", memory_gib=round(p.total_memory / 2**30, 1),
                 multiprocessors=p.multi_processor_count)
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        f["nvidia_smi"] = smi.stdout.strip() or smi.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        f["nvidia_smi"] = f"not usable: {e}"
    manifest = ROOT / ".device-check" / "MANIFEST.json"
    if manifest.is_file():
        import json

        m = json.loads(manifest.read_text())
        f["carried_engine"] = {k: m.get(k) for k in ("built", "python_headers", "go", "so")}
        f["carried_engine_matches_sources"] = m.get("source_hash") == source_hash()
        if not why:  # only a GPU run uses the carried engine
            checks["carried_engine_matches_sources"] = f["carried_engine_matches_sources"]
    if torch.cuda.is_available() and not ctx.dry:
        checks["ibmb_cuda_backend_available"] = not why  # torch sees a GPU: ibmb must too
    res = _result(checks, f, {}, Ctx(False, ctx.out))  # env always runs: it reports, it skips nothing
    if res["status"] == "pass" and why:
        res["reason"] = f"no GPU: {why}"
    return res


def part_gather(ctx: Ctx) -> dict:
    """CUDA gather bit-exact vs the CPU kernel, and its GB/s beside a device copy and index_select."""
    import torch

    import ibmb

    n, d, m = ctx.size((4_000_000, 128, 1_000_000), (100_000, 64, 50_000))
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, n, (m,), generator=g)
    cpu: dict = {"checks": {}}
    checks, fig = {}, {"rows": n, "width": d, "gathered": m}
    why = "" if ctx.dry else _torch_gpu()
    x32 = torch.randn(n, d, generator=g)
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        x = x32.to(dt)
        ref = ibmb.gather(x, idx)
        name = str(dt).split(".")[1]
        cpu["checks"][f"cpu_equals_index_select_{name}"] = _same_bits(ref, x.index_select(0, idx))
        if dt == torch.float32:
            s = _median_s(lambda: ibmb.gather(x, idx, out=ref), reps=3)
            cpu["gather_gbps"] = 2 * ref.numel() * 4 / s / 1e9
        if ctx.dry or why:
            continue
        xg, ig = x.cuda(), idx.cuda()
        out = ibmb.gather(xg, ig)
        checks[f"cuda_bit_exact_{name}"] = _same_bits(out.cpu(), ref)
        if dt == torch.float32:
            nbytes = 2 * out.numel() * 4 + ig.numel() * 8  # rows read and written, plus the index
            s = _median_s(lambda: ibmb.gather(xg, ig, out=out), reps=10, warm=3, cuda=True)
            fig["cuda_gather_gbps"] = nbytes / s / 1e9
            src = torch.empty_like(out)
            s_copy = _median_s(lambda: out.copy_(src), reps=10, warm=3, cuda=True)
            fig["device_copy_gbps"] = 2 * out.numel() * 4 / s_copy / 1e9
            s_sel = _median_s(lambda: torch.index_select(xg, 0, ig, out=out), reps=10, warm=3, cuda=True)
            fig["torch_index_select_gbps"] = nbytes / s_sel / 1e9
            fig["gather_vs_copy"] = fig["cuda_gather_gbps"] / fig["device_copy_gbps"]
            try:
                ibmb.gather(xg, torch.tensor([n], device="cuda"))
                checks["cuda_out_of_range_raises_index_error"] = False
            except IndexError:
                checks["cuda_out_of_range_raises_index_error"] = True
        xg = ig = out = None  # free the device memory before the next dtype
        torch.cuda.empty_cache()
    return _result(checks, fig, cpu, ctx, why)


def _exact_ppr(indptr: np.ndarray, indices: np.ndarray, targets: np.ndarray, alpha: float) -> np.ndarray:
    """Exact PPR rows [len(targets), N]: p = alpha * sum_k x ((1-alpha) D^-1 A)^k, to 1e-9 of mass."""
    import scipy.sparse as sp

    n = len(indptr) - 1
    a = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))
    deg = np.maximum(np.diff(indptr), 1).astype(np.float64)
    r = np.zeros((n, len(targets)))
    r[targets, np.arange(len(targets))] = 1.0
    p = np.zeros_like(r)
    while r.sum() > 1e-9 * len(targets):
        p += alpha * r
        r = (1 - alpha) * (a.T @ (r / deg[:, None]))
    return p.T


def _bound_ok(res: Any, exact: np.ndarray, deg: np.ndarray, eps: float) -> tuple[bool, float]:
    """Every estimate within 0 <= p - p_hat <= eps * deg(v) (float32 slack); and the worst ratio to the bound."""
    worst, ok, deg = 0.0, True, np.maximum(deg, 1)
    for i in range(res.num_rows):
        nodes, scores = res.row(i)
        est = np.zeros(exact.shape[1])
        est[nodes] = scores
        diff = exact[i] - est
        slack = 1e-6 * exact[i] + 1e-8
        ok &= bool(np.all(diff >= -slack) and np.all(diff <= eps * deg + slack))
        worst = max(worst, float(np.max(diff / (eps * deg))))
    return ok, worst


def part_ppr(ctx: Ctx) -> dict:
    """GPU PPR push vs the CPU push: both within the push bound of exact PPR; speed on all CPU cores vs the GPU."""
    import ibmb
    from ibmb.graph import CSRGraph
    from ibmb.ppr import node_ppr

    why = "" if ctx.dry else _torch_gpu()
    alpha, eps = 0.25, 1e-4
    rng = np.random.default_rng(0)
    # Bound: a graph small enough for exact PPR by power iteration.
    small = ibmb.datasets.csbm(num_nodes=ctx.size(100_000, 20_000), num_features=1, seed=1)
    g = CSRGraph.from_edge_index(small.edge_index, small.num_nodes, symmetrize=True, drop_duplicates=True)
    indptr, indices = (np.asarray(a) for a in g.csr())
    deg = np.diff(indptr).astype(np.float64)
    targets = rng.choice(g.num_nodes, size=8, replace=False)
    exact = _exact_ppr(indptr, indices, targets, alpha)
    cpu: dict = {"checks": {}}
    cpu["checks"]["cpu_within_push_bound"], cpu["worst_error_over_bound"] = _bound_ok(
        node_ppr(g, targets, alpha=alpha, eps=eps), exact, deg, eps)
    checks, fig = {}, {}
    if not (ctx.dry or why):
        t = time.perf_counter()
        gres = node_ppr(g, targets, alpha=alpha, eps=eps, device="cuda")
        fig["cuda_first_call_s"] = time.perf_counter() - t  # includes NVRTC compile or the kernel cache
        checks["cuda_within_push_bound"], fig["cuda_worst_error_over_bound"] = _bound_ok(gres, exact, deg, eps)
    # Speed: IBMB's setting (top-16, eps 2e-4) on the big graph, every core against the GPU.
    big = ibmb.datasets.csbm(num_nodes=ctx.size(1_000_000, 20_000), num_features=1, seed=2)
    gb = CSRGraph.from_edge_index(big.edge_index, big.num_nodes, symmetrize=True, drop_duplicates=True)
    tb = rng.choice(gb.num_nodes, size=ctx.size(100_000, 2_000), replace=False)
    rc = node_ppr(gb, tb, alpha=alpha, eps=2e-4, topk=16)
    cpu.update(nodes=gb.num_nodes, edges=gb.num_edges, targets=len(tb), threads=ibmb.num_threads(),
               cpu_s=rc.seconds, cpu_pushes=rc.pushes)
    if not (ctx.dry or why):
        rg = node_ppr(gb, tb, alpha=alpha, eps=2e-4, topk=16, device="cuda")
        fig.update(cuda_s=rg.seconds, cuda_pushes=rg.pushes, speedup_vs_all_cpu_cores=rc.seconds / rg.seconds)
        same = [len(np.intersect1d(rc.row(i)[0], rg.row(i)[0])) / max(1, len(rc.row(i)[0])) for i in range(200)]
        fig["top16_overlap_with_cpu"] = float(np.mean(same))
    return _result(checks, fig, cpu, ctx, why)


from device_hist import part_histories  # noqa: E402
from device_dist import part_distributed  # noqa: E402
from device_jobs import part_loaders, part_nvml, part_train  # noqa: E402

PARTS = {"env": part_env, "gather": part_gather, "ppr": part_ppr, "loaders": part_loaders, "nvml": part_nvml,
         "train": part_train, "histories": part_histories, "distributed": part_distributed}


def run_part(name: str, dry: bool, out: Path) -> dict:
    """Run one part; an exception becomes status "error" with its traceback's tail."""
    ctx = Ctx(dry, out)
    try:
        return PARTS[name](ctx)
    except Exception as e:  # reported, so the other parts still run
        tb = traceback.format_exc().splitlines()
        return {"status": "error", "reason": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                "traceback": "\n".join(tb[-15:])}
