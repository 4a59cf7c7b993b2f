"""Scatter throughput (history push): ibmb's scatter kernel beside memcpy and
torch.Tensor.index_copy_, measured in the same run.

For each row size (>= 256 B) and row count (>= 1e5), writes ``count`` packed
rows into ``count`` distinct random rows of a float32 store of about
--store-gib (prefaulted), and reports GB/s of rows written (median and best of
--repeat interleaved rounds; ratios are medians of same-round ratios) for:

- ``ibmb.history.scatter`` (the engine's kernel, all engine threads; the
  distinct-id check is included),
- ``HistoryStore.push`` (the same kernel behind the history store's API),
- ``dst.index_copy_(0, index, src)`` (torch, its own threads),
- ``ibmb.history.scatter`` of the same rows in ascending id order (sorted
  before timing: how much of the cost is the random order of the writes),

beside the memcpy bandwidth of the same number of bytes: a single-threaded
``numpy.copyto`` of one contiguous buffer (the target: scatter >= 80% of it)
and a multi-threaded ``torch`` ``copy_``.

``--ids push`` writes the rows in the order a history push does (a batch's
outputs ascending, then its auxiliary nodes ascending) instead of random order.

Usage: python benchmarks/bench_scatter.py [--rows 256,1024] [--counts 1e5,1e6] [--cpu-time] [--ids push] [--markdown FILE]
"""
from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np
import torch

import ibmb
from ibmb.history import HistoryStore, scatter
from _common import add_sizes, parser, sizes


CLOCK = time.perf_counter


def rounds(fns: dict, repeat: int) -> dict:
    """Times every function once per round, interleaved, for ``repeat``
    rounds after one warm-up round; returns the lists of seconds. On a
    shared machine the load drifts; interleaving lets every method see the
    same drift, and paired ratios (same round) cancel most of it."""
    out = {k: [] for k in fns}
    for r in range(repeat + 1):
        for k, fn in fns.items():
            t = CLOCK()
            fn()
            if r:
                out[k].append(CLOCK() - t)
    return out


def main() -> None:
    p = parser(__doc__)
    add_sizes(p, "256,512,1024", "1e5,1e6", "rows written per scatter (>= 1e5)", rows_note=" (>= 256)")
    p.add_argument("--store-gib", type=float, default=1.0, help="store size (GiB)")
    p.add_argument("--max-src-gib", type=float, default=0.6, help="skip cases with more packed rows than this")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--markdown", help="append the table to this file")
    p.add_argument("--ids", choices=("random", "push"), default="random",
                   help="random: distinct ids in random order (the worst case); push: the order a history push "
                        "writes (HistoryGNN pushes a batch's exact rows: its outputs in ascending id order, then its "
                        "auxiliary nodes in ascending order; here 1 output per 16 auxiliary nodes, IBMB's default)")
    p.add_argument("--cpu-time", action="store_true",
                   help="one thread everywhere (ibmb, torch) and process CPU time instead of wall time: on a shared, "
                        "overloaded machine this compares the work per core, not the share of the CPU each got")
    args = p.parse_args()
    if args.cpu_time:
        global CLOCK
        CLOCK = time.process_time
        ibmb.set_num_threads(1)
        torch.set_num_threads(1)
    row_sizes, counts = sizes(args.rows), sizes(args.counts)
    gen = torch.Generator().manual_seed(0)

    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; ibmb {ibmb.__version__} with {ibmb.num_threads()} threads; "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads; store {args.store_gib:g} GiB float32; "
        f"{'CPU time, 1 thread' if args.cpu_time else 'wall time'}; ids {args.ids}; {args.repeat} interleaved rounds: median GB/s (best in parentheses); ratios are medians of same-round ratios",
        "",
        "| row B | rows | numpy copy GB/s | torch copy GB/s | ibmb scatter GB/s | % of numpy copy | "
        "HistoryStore.push GB/s | index_copy_ GB/s | ibmb / index_copy_ | ibmb, ids ascending GB/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for rb in row_sizes:
        width = rb // 4
        n_store = max(int(args.store_gib * 2**30) // rb, 2 * max(counts))
        store = HistoryStore(n_store, [width])
        dst = store.layer(0)  # the same memory, as a torch tensor
        dst.fill_(1.0)  # fault every page in
        for count in counts:
            nbytes = count * rb
            if nbytes > args.max_src_gib * 2**30:
                print(f"| {rb} | {count:.0e} | skipped: {nbytes / 2**30:.2f} GiB of rows > --max-src-gib |")
                continue
            ids = torch.randperm(n_store, generator=gen)[:count]
            if args.ids == "push":  # outputs ascending, then auxiliary nodes ascending
                k = max(1, count // 17)
                ids = torch.cat([torch.sort(ids[:k]).values, torch.sort(ids[k:]).values])
            src = torch.rand(count, width, generator=gen)
            ids_up, order = torch.sort(ids)  # the same rows written in ascending id order
            src_up = src[order].contiguous()
            a = np.ones(nbytes // 4, np.float32)
            b = np.empty_like(a)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            ts = rounds({
                "np": lambda: np.copyto(b, a),
                "torch": lambda: tb.copy_(ta),
                "ibmb": lambda: scatter(dst, ids, src),
                "ibmb_up": lambda: scatter(dst, ids_up, src_up),
                "push": lambda: store.push(0, src, ids),
                "index_copy_": lambda: dst.index_copy_(0, ids, src),
            }, args.repeat)
            del a, b, ta, tb
            assert torch.equal(dst[ids[[0, -1]]], src[[0, -1]])
            g = {k: nbytes / statistics.median(v) / 1e9 for k, v in ts.items()}
            best = {k: nbytes / min(v) / 1e9 for k, v in ts.items()}
            pct = 100 * statistics.median(x / y for x, y in zip(ts["np"], ts["ibmb"]))
            vs_ic = statistics.median(x / y for x, y in zip(ts["index_copy_"], ts["ibmb"]))
            row = (f"| {rb} | {count:.0e} | {g['np']:.1f} ({best['np']:.1f}) | {g['torch']:.1f} ({best['torch']:.1f}) | "
                   f"{g['ibmb']:.1f} ({best['ibmb']:.1f}) | {pct:.0f}% | {g['push']:.1f} ({best['push']:.1f}) | "
                   f"{g['index_copy_']:.1f} ({best['index_copy_']:.1f}) | {vs_ic:.2f}x | "
                   f"{g['ibmb_up']:.1f} ({best['ibmb_up']:.1f}) |")
            print(row, flush=True)
            lines.append(row)
        del store, dst
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
