"""The distributed part of benchmarks/device_check.py (issue 15): a data-parallel
job with ``device="cuda"``, so that its process group is nccl (DDP's gradient
all-reduce on the GPU) beside the gloo group the feature exchange and the
prediction gathers use. One GPU allows one rank only (NCCL refuses two ranks on
one device), so this checks the nccl path end to end (initialization, DDP on
CUDA, macrobatched feature fetching, distributed inference) but not traffic
between GPUs. The CPU reference, run in the dry run (CI) and on machines
without a GPU, is the same job on gloo; on the GPU machine the part's time goes
to the nccl job. Conventions: see device_parts.py.
"""
from __future__ import annotations

import time
from typing import Any

# device_parts is imported inside part_distributed: a rank process (spawn) imports this module first to unpickle
# _rank_job, and device_parts imports this module back.


def _rank_job(ctx: Any, nodes: int, epochs: int) -> dict:
    """One rank: ibmb-node with replicated features (macrobatch 0) and with
    sharded features fetched per batch (macrobatch 1), trained and inferred
    through ibmb.distributed.run."""
    import torch

    import ibmb.data as D
    from ibmb import distributed
    from ibmb.train import Config

    data = D.load("default", num_nodes=nodes, num_features=16, split_seed=0)
    dev = f"cuda:{ctx.local_rank}" if ctx.backend == "nccl" else "cpu"
    out: dict = {"backend": ctx.backend, "world_size": ctx.world_size, "device": dev, "runs": {}}
    for k in (0, 1):
        cfg = Config(hidden=32, epochs=epochs, eval_every=epochs, num_nodes_per_batch=128, lr=0.05, progress=False,
                     device=dev, macrobatch=k)
        t = time.perf_counter()
        (res,) = distributed.run(["ibmb-node"], data, cfg)
        out["runs"][k] = {"test_acc": float(res.test_acc), "seconds": time.perf_counter() - t, "note": res.note}
    out["cuda_memory_allocated"] = int(torch.cuda.memory_allocated()) if ctx.backend == "nccl" else 0
    return out


def _job(device: str, nodes: int, epochs: int) -> tuple:
    from ibmb.distributed.launch import spawn

    t = time.perf_counter()
    (r,) = spawn(_rank_job, 1, (nodes, epochs), device=device, timeout_s=60, threads=0)
    return r, time.perf_counter() - t


def _checks(r: dict, backend: str, classes: int = 10) -> dict:
    ok = {f"backend_is_{backend}": r["backend"] == backend}
    for k, run in r["runs"].items():
        ok[f"macrobatch_{k}_above_chance"] = run["test_acc"] > 1.5 / classes
    return ok


def part_distributed(ctx: Any) -> dict:
    """`ibmb.distributed.run` on one rank with device="cuda" (nccl + gloo groups), replicated and sharded
    features; the CPU reference runs it on gloo."""
    from device_parts import _result, _torch_gpu

    why = "" if ctx.dry else _torch_gpu()
    if ctx.dry or why:  # the gloo job is the CPU reference; on a GPU machine the part's time goes to nccl
        r_cpu, s_cpu = _job("cpu", 3000, 20)
        cpu = {"checks": _checks(r_cpu, "gloo"), "seconds": s_cpu, "runs": r_cpu["runs"]}
        return _result({}, {}, cpu, ctx, why)
    cpu = {"checks": {}, "note": "gloo reference not run on the GPU machine (dry run and CI run it)"}
    r, secs = _job("cuda", 20_000, 20)
    fig = {"seconds": secs, "runs": r["runs"], "device": r["device"], "cuda_memory_allocated": r["cuda_memory_allocated"]}
    return _result(_checks(r, "nccl"), fig, cpu, ctx)
