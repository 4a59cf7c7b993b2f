"""The ``ibmb train`` / ``ibmb bench`` jobs on several ranks.

:func:`wanted` tells the command whether to go distributed (``--nproc N``
with N > 1, or ``WORLD_SIZE`` > 1 in the environment: ``torchrun``);
:func:`start` then either spawns ``--nproc`` ranks on this machine or
joins the ``torchrun`` job in this process, and every rank runs the
command's ordinary job function again, which calls :func:`run` instead of
:func:`ibmb.train.loop.run`. Rank 0 prints the table and writes the files;
the other ranks are quiet.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import os
import sys
from typing import Any, Callable, Iterable, Optional

from ibmb.distributed import launch as L

__all__ = ["wanted", "start", "run", "active"]


def active() -> bool:
    """Whether this process is a rank of a running job."""
    return L.current() is not None


def wanted(args: argparse.Namespace) -> bool:
    """Whether a command with ``args`` should run distributed and is not yet."""
    return not active() and (int(getattr(args, "nproc", 1) or 1) > 1 or L.env_world_size() > 1)


def start(args: argparse.Namespace, job: Callable[..., int], *job_args: Any) -> int:
    """Run ``job(args, *job_args)`` (the command's job function, picklable)
    on every rank; returns rank 0's exit status (1 with the ranks' errors on
    stderr when any rank failed)."""
    timeout = float(getattr(args, "dist_timeout", L.DEFAULT_TIMEOUT_S))
    device = str(getattr(args, "device", "cpu"))
    nproc = int(getattr(args, "nproc", 1) or 1)
    from ibmb.distributed.hist_method import refuse_momentum

    try:
        refuse_momentum(args)  # before any rank starts (build_model checks it again for direct callers)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if L.env_world_size() > 1:
        if nproc > 1:
            print(f"error: --nproc {nproc} under torchrun (WORLD_SIZE={L.env_world_size()}): torchrun starts the "
                  "processes (--nproc_per_node); leave --nproc out", file=sys.stderr)
            return 2
        ctx = L.init_from_env(device, timeout)
        try:
            return _rank_job(ctx, args, job, job_args)
        finally:
            L.shutdown()
    try:
        codes = L.spawn(_rank_job, nproc, (args, job, job_args), device=device, timeout_s=timeout,
                        threads=int(getattr(args, "threads", 0) or 0))
    except L.DistributedError as e:
        print(f"error: {e}", file=sys.stderr)
        for r, tb in e.tracebacks.items():
            if tb:
                print(f"--- rank {r} ---\n{tb}", file=sys.stderr)
        return 1
    return int(codes[0])


def _rank_job(ctx: L.Context, args: argparse.Namespace, job: Callable[..., int], job_args: tuple) -> int:
    """One rank's share of a job: the device of its local rank, quiet output
    and no files on ranks other than 0."""
    args = copy.copy(args)
    if str(getattr(args, "device", "cpu")).startswith("cuda"):
        args.device = f"cuda:{ctx.local_rank}"
    if getattr(args, "threads", 0) in (0, None) and L.env_world_size() > 1:
        args.threads = max(1, (os.cpu_count() or 1) // max(1, ctx.local_world_size))
    with contextlib.ExitStack() as stack:
        if not ctx.is_main:
            for k in ("json", "plot", "save_model"):
                if hasattr(args, k):
                    setattr(args, k, None)
            args.progress = False
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(open(os.devnull, "w"))))
        return int(job(args, *job_args))


def run(methods: Iterable[str], data: Any, cfg: Any, seeds: Iterable[int] = (0,),
        log: Optional[Callable[[str], None]] = None) -> list:
    """:func:`ibmb.train.loop.run` on every rank of the current job: the
    methods of :data:`~ibmb.distributed.method.SUPPORTED` train with
    :class:`~ibmb.distributed.method.DistributedMethod`, the history methods
    (:data:`~ibmb.distributed.hist_method.HIST_METHODS`) with
    :class:`~ibmb.distributed.hist_method.DistributedHistMethod` (one shared
    history); others are reported unavailable (they run with one process)."""
    from ibmb.distributed.hist_method import HIST_METHODS, DistributedHistMethod
    from ibmb.distributed.method import SUPPORTED, DistributedMethod
    from ibmb.train.loop import train_eval
    from ibmb.train.measure import Result

    ctx = L.current()
    if ctx is None:
        raise RuntimeError("ibmb.distributed.run needs a running job (launch, spawn or init_from_env first)")
    out = []
    for name in methods:
        if name not in SUPPORTED + HIST_METHODS:
            out.append(Result(name, note=f"unavailable: runs on one process only (with --nproc: "
                                         f"{', '.join(SUPPORTED + HIST_METHODS)})"))
            continue
        runs = []
        for s in seeds:
            c = copy.copy(cfg)
            c.seed = int(s)
            cls = DistributedHistMethod if name in HIST_METHODS else DistributedMethod
            m = cls(name, data, c, ctx)
            r = train_eval(m, data, c, log=log)
            r.note += m.traffic_note()
            runs.append(r)
        out.append(runs[0] if len(runs) == 1 else _aggregate(runs))
    return out


def _aggregate(runs: list) -> Any:
    from ibmb.train import loop

    return loop._aggregate(runs)  # the single-process aggregation, shared on purpose
