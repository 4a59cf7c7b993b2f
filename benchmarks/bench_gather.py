"""Gather throughput: ibmb.gather beside numpy.take and torch.index_select.

For each row size (64 B ... 4 KiB of float32) and index count (1e4 ... 1e7),
gathers random rows of a source matrix much larger than the caches and
reports GB/s of output written, beside the machine's memcpy bandwidth
measured in the same run (the copy of one large contiguous buffer, the
larger of single-threaded numpy.copyto and multi-threaded torch copy_).
Combinations whose output would exceed --max-out-gib are skipped.

Usage: python benchmarks/bench_gather.py [--quick] [--cuda] [--markdown FILE]
"""
from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np
import torch

import ibmb
from _common import add_sizes, parser, sizes


def timeit(fn, repeat: int) -> float:
    fn()  # warm-up (page faults, caches)
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def cpu_memcpy_gbps(nbytes: int, repeat: int) -> tuple[float, float]:
    a = np.ones(nbytes // 4, dtype=np.float32)
    b = np.empty_like(a)
    single = nbytes / timeit(lambda: np.copyto(b, a), repeat) / 1e9
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    multi = nbytes / timeit(lambda: tb.copy_(ta), repeat) / 1e9
    return single, multi


def cuda_copy_gbps(nbytes: int, repeat: int) -> float:
    a = torch.ones(nbytes // 4, device="cuda")
    b = torch.empty_like(a)

    def run():
        b.copy_(a)
        torch.cuda.synchronize()

    return nbytes / timeit(run, repeat) / 1e9


def main() -> None:
    p = parser(__doc__)
    add_sizes(p, None, None, "index counts")
    p.add_argument("--quick", action="store_true", help="fewer sizes, fewer repeats")
    p.add_argument("--cuda", action="store_true", help="also benchmark CUDA tensors")
    p.add_argument("--max-out-gib", type=float, default=1.5, help="skip outputs larger than this (GiB)")
    p.add_argument("--src-gib", type=float, default=1.0, help="source matrix size (GiB)")
    p.add_argument("--markdown", help="write the table to this file")
    args = p.parse_args()

    row_sizes = [64, 256, 512, 1024, 4096] if args.quick else [64, 128, 256, 512, 1024, 2048, 4096]
    counts = [10**4, 10**5, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7]
    if args.rows:
        row_sizes = sizes(args.rows)
    if args.counts:
        counts = sizes(args.counts)
    repeat = 3 if args.quick else 5
    rng = np.random.default_rng(0)

    single, multi = cpu_memcpy_gbps(1 << 30, repeat)
    limit = max(single, multi)
    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"ibmb {ibmb.__version__} with {ibmb.num_threads()} threads; torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads; numpy {np.__version__}",
        f"memcpy bandwidth (1 GiB): numpy.copyto {single:.2f} GB/s, torch copy_ {multi:.2f} GB/s; "
        f"limit used: {limit:.2f} GB/s",
        "",
        "| row bytes | indices | ibmb GB/s | % of memcpy | numpy.take GB/s | torch.index_select GB/s | ibmb / torch |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for rb in row_sizes:
        width = rb // 4
        n_src = max(1, int(args.src_gib * 2**30) // rb)
        x = rng.standard_normal((n_src, width), dtype=np.float32)
        tx = torch.from_numpy(x)
        for m in counts:
            if m * rb > args.max_out_gib * 2**30:
                continue
            idx = rng.integers(0, n_src, size=m)
            tidx = torch.from_numpy(idx)
            out = np.empty((m, width), dtype=np.float32)
            tout = torch.empty(m, width)
            nbytes = m * rb
            t_ibmb = timeit(lambda: ibmb.gather(x, idx, out=out), repeat)
            t_np = timeit(lambda: np.take(x, idx, axis=0, out=out), repeat)
            t_torch = timeit(lambda: torch.index_select(tx, 0, tidx, out=tout), repeat)
            g, gn, gt = nbytes / t_ibmb / 1e9, nbytes / t_np / 1e9, nbytes / t_torch / 1e9
            row = (f"| {rb} | {m:.0e} | {g:.2f} | {100 * g / limit:.0f}% | {gn:.2f} | {gt:.2f} | "
                   f"{g / gt:.2f}x |")
            lines.append(row)
            print(row, flush=True)
        del x, tx

    if args.cuda:
        if not torch.cuda.is_available():
            lines.append("\nCUDA: no device available, skipped")
        else:
            dev = torch.cuda.get_device_name()
            climit = cuda_copy_gbps(1 << 30, repeat)
            lines += ["", f"CUDA device: {dev}; device-to-device copy {climit:.1f} GB/s", "",
                      "| row bytes | indices | ibmb GB/s | % of copy | torch.index_select GB/s | ibmb / torch |",
                      "|---:|---:|---:|---:|---:|---:|"]
            print("\n".join(lines[-5:]), flush=True)
            for rb in row_sizes:
                width = rb // 4
                n_src = max(1, (1 << 30) // rb)
                x = torch.randn(n_src, width, device="cuda")
                for m in counts:
                    idx = torch.randint(0, n_src, (m,), device="cuda")
                    out = torch.empty(m, width, device="cuda")

                    def run_ibmb():
                        ibmb.gather(x, idx, out=out)
                        torch.cuda.synchronize()

                    def run_torch():
                        torch.index_select(x, 0, idx, out=out)
                        torch.cuda.synchronize()

                    g = m * rb / timeit(run_ibmb, repeat) / 1e9
                    gt = m * rb / timeit(run_torch, repeat) / 1e9
                    row = f"| {rb} | {m:.0e} | {g:.1f} | {100 * g / climit:.0f}% | {gt:.1f} | {g / gt:.2f}x |"
                    lines.append(row)
                    print(row, flush=True)
                del x
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
