"""Graph partitioner: ibmb's deep multilevel partitioner beside METIS (pymetis)
and KaMinPar (its PyPI wheel), measured in the same run.

For each graph and part count, prints the edge cut (undirected edges between
parts), the balance (heaviest part / average part, unit node weights) and the
wall time of each partitioner, the median of --repeat runs (default 3,
interleaved across the partitioners; the cut and balance are those of the
median run), and ibmb's cut, wall time and CPU time (all its threads)
relative to METIS's. Target (issue 16): ibmb's cut <= 1.03x METIS's at
balance <= 1.03 and its time <= METIS's (goal: 3x faster).

Graphs: the GitHub and Facebook graphs (../shared/data/karateclub) and the
100k-node CSBM graph (16 classes, average degree 10, homophily 0.8); with
--big also the 1M-node built-in graph (the settings of ibmb.data's default
graph: 10 classes, average degree 10, homophily 0.6) into 98 parts, one run
each.

Every partitioner gets the same simple symmetric graph (no self-loops) and
3% imbalance: METIS k-way with ufactor 30 and its default seed; KaMinPar's
default context on all cores (--kaminpar-threads), seed 0, fed through a
ParHIP file written before the clock starts; ibmb ``partition(g, k)`` with
all cores, seed 0, from the CSRGraph (its time includes building its
internal graph). With --others also KaMinPar's fast context and KaHIP's
kaffpa fast/fastsocial where installed (`pip install kahip`). With --cpu-time
the table also gives METIS's and ibmb's median process CPU seconds (all
threads), the figures least affected by the machine's load. With
--without-kaminpar only METIS and ibmb run (KaMinPar's worker threads,
which may spin after its runs, then never share the cores with ibmb's).

Usage: python benchmarks/bench_partition.py [--markdown FILE] [--repeat 3] [--big] [--others]
                                            [--cpu-time] [--without-kaminpar] [--graphs github,facebook,csbm]
                                            [--parts 8,32,128]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import numpy as np

import ibmb
from ibmb.batching import partition
from ibmb.partitioners import _parhip
from _common import DATA, karateclub_csv


def load_avg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def karate(name: str) -> np.ndarray:
    e = karateclub_csv(name, "edges.csv").T
    return np.concatenate([e, e[::-1]], axis=1)


def graphs(names, big: bool):
    for name in names:
        if name in ("github", "facebook"):
            if (DATA / "karateclub" / name / "edges.csv").is_file():
                yield name, karate(name), None
        elif name == "csbm":
            d = ibmb.datasets.csbm(num_nodes=100_000, num_classes=16, avg_degree=10, homophily=0.8,
                                   num_features=0, seed=0)
            yield "CSBM 100k", d.edge_index, None
    if big:
        d = ibmb.datasets.csbm(num_nodes=1_000_000, num_classes=10, avg_degree=10, homophily=0.6,
                               separation=0.3, num_features=0, seed=0)
        yield "CSBM 1M (built-in default)", d.edge_index, [98]


def metis_arrays(g) -> tuple:
    """(xadj, adjncy) of a symmetric CSRGraph without its self-loops (METIS rejects them)."""
    indptr, indices = g.csr()
    indptr, indices = np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64)
    rows = np.repeat(np.arange(g.num_nodes), np.diff(indptr))
    keep = rows != indices
    xadj = np.zeros(g.num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=g.num_nodes), out=xadj[1:])
    return xadj, indices[keep]


def kaminpar_graph(xadj: np.ndarray, adjncy: np.ndarray):
    """A kaminpar.Graph of (xadj, adjncy): its Python API loads graphs from files only (here a ParHIP file)."""
    import kaminpar

    fd, path = tempfile.mkstemp(suffix=".parhip")
    os.close(fd)
    try:
        _parhip(path, xadj, adjncy, None)
        return kaminpar.load_graph(path, kaminpar.GraphFileFormat.PARHIP)
    finally:
        os.unlink(path)


def measure(fns: list, repeat: int) -> list:
    """For each fn in fns: (parts of its median run, median wall seconds, median CPU seconds of this
    process, all threads). The runs are interleaved (fn0, fn1, ..., fn0, fn1, ...) so that a change
    in the machine's load hits every partitioner alike."""
    runs = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t, c = time.perf_counter(), time.process_time()
            parts = np.asarray(fn(), dtype=np.int64)
            runs[i].append((time.perf_counter() - t, time.process_time() - c, parts))
    out = []
    for r in runs:
        r.sort(key=lambda x: x[0])
        dt, _, parts = r[len(r) // 2]
        out.append((parts, dt, statistics.median(x[1] for x in r)))
    return out


def stats(xadj: np.ndarray, adjncy: np.ndarray, parts: np.ndarray, k: int) -> tuple:
    n = len(xadj) - 1
    cut = int((parts[np.repeat(np.arange(n), np.diff(xadj))] != parts[adjncy]).sum()) // 2
    return cut, np.bincount(parts, minlength=k).max() / (n / k)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--markdown")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--graphs", default="github,facebook,csbm")
    ap.add_argument("--parts", default="8,32,128")
    ap.add_argument("--big", action="store_true", help="also the 1M-node built-in graph into 98 parts (one run each)")
    ap.add_argument("--kaminpar-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--others", action="store_true", help="also KaMinPar fast and KaHIP where installed")
    ap.add_argument("--cpu-time", action="store_true", help="also METIS's and ibmb's CPU seconds (median, all threads)")
    ap.add_argument("--without-kaminpar", action="store_true",
                    help="time METIS and ibmb only (KaMinPar's worker threads stay out of the process)")
    args = ap.parse_args()
    import pymetis

    try:
        import kaminpar
    except ImportError:
        kaminpar = None
    if args.without_kaminpar:
        kaminpar = None
    ks_default = [int(k) for k in args.parts.split(",")]
    head = (f"machine: {platform.machine()}, {os.cpu_count()} cores; ibmb {ibmb.__version__} (all cores), "
            f"pymetis (METIS 5), kaminpar {getattr(kaminpar, '__version__', '3.7') if kaminpar else ('not run' if args.without_kaminpar else 'not installed')} "
            f"(default context, {args.kaminpar_threads} threads); median of {args.repeat} runs; "
            f"load average at start {load_avg()}")
    lines = [head, "",
             "| graph | nodes | edges | parts | METIS cut | METIS bal | METIS s | ibmb cut | ibmb bal | ibmb s | "
             "cut ibmb/METIS | time ibmb/METIS | CPU ibmb/METIS | KaMinPar cut | KaMinPar bal | KaMinPar s | "
             + ("METIS CPU s | ibmb CPU s | " if args.cpu_time else "") + "load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
             + ("---:|---:|" if args.cpu_time else "") + "---|"]
    print("\n".join(lines), flush=True)
    more = ["", "| graph | parts | partitioner | cut | balance | s | cut / METIS's |", "|---|---:|---|---:|---:|---:|---:|"]
    for name, ei, ks in graphs(args.graphs.split(","), args.big):
        g = ibmb.graph.CSRGraph.from_edge_index(ei, symmetrize=True, drop_duplicates=True)
        xadj, adjncy = metis_arrays(g)
        kg = kaminpar_graph(xadj, adjncy) if kaminpar is not None else None
        repeat = 1 if ks is not None else args.repeat
        for k in ks or ks_default:
            la = load_avg()
            opts = pymetis.Options()
            opts.ufactor = 30
            fns = [lambda: pymetis.part_graph(k, adjacency=pymetis.CSRAdjacency(xadj, adjncy), options=opts)[1],
                   lambda: partition(g, k, imbalance=0.03, seed=0)]
            if kg is not None:
                kp = kaminpar.KaMinPar(args.kaminpar_threads, kaminpar.default_context())

                def kmp():
                    kaminpar.reseed(0)
                    return kp.compute_partition(kg, k, 0.03)

                fns.append(kmp)
            res = measure(fns, repeat)
            (mparts, mt, mcpu), (iparts, it, icpu) = res[:2]
            mc, mb = stats(xadj, adjncy, mparts, k)
            ic, ib = stats(xadj, adjncy, iparts, k)
            kcol = " | | "
            if kg is not None:
                kparts, kt, _ = res[2]
                kc, kb = stats(xadj, adjncy, kparts, k)
                kcol = f"{kc:,} | {kb:.3f} | {kt:.3f}"
            if args.cpu_time:
                kcol += f" | {mcpu:.3f} | {icpu:.3f}"
            row = (f"| {name} | {g.num_nodes:,} | {len(adjncy) // 2:,} | {k} | {mc:,} | {mb:.3f} | {mt:.3f} | "
                   f"{ic:,} | {ib:.3f} | {it:.3f} | {ic / max(mc, 1):.3f} | {it / mt:.2f} | {icpu / mcpu:.2f} | {kcol} | {la} |")
            lines.append(row)
            print(row, flush=True)
            if args.others:
                more += others(name, xadj, adjncy, k, mc, kg)
    if args.others:
        lines += more
        print("\n".join(more), flush=True)
    tail = f"load average at end {load_avg()}"
    lines += ["", tail]
    print(tail, flush=True)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(lines) + "\n")


def others(name: str, xadj: np.ndarray, adjncy: np.ndarray, k: int, metis_cut: int, kg) -> list:
    """Rows for KaMinPar's fast context and KaHIP (where importable), one run each."""
    rows = []
    n = len(xadj) - 1
    if kg is not None:
        import kaminpar

        kp = kaminpar.KaMinPar(os.cpu_count() or 1, kaminpar.context_by_name("fast"))
        kaminpar.reseed(0)
        t = time.perf_counter()
        parts = np.asarray(kp.compute_partition(kg, k, 0.03), dtype=np.int64)
        rows.append(("KaMinPar fast, all cores", parts, time.perf_counter() - t))
    try:
        import kahip
    except ImportError:
        kahip = None
    if kahip is not None:
        vw, xa, aj, ew = [1] * n, xadj.tolist(), adjncy.tolist(), [1] * len(adjncy)
        for mode, label in ((kahip.FAST, "fast"), (kahip.FASTSOCIAL, "fastsocial")):
            t = time.perf_counter()
            _, parts = kahip.kaffpa(vw, xa, ew, aj, k, 0.03, True, 0, mode)
            rows.append((f"KaHIP kaffpa {label}, 1 thread", np.asarray(parts, dtype=np.int64), time.perf_counter() - t))
    out = []
    for who, parts, dt in rows:
        cut, bal = stats(xadj, adjncy, parts, k)
        out.append(f"| {name} | {k} | {who} | {cut:,} | {bal:.3f} | {dt:.3f} | {cut / max(metis_cut, 1):.3f} |")
    return out


if __name__ == "__main__":
    main()
