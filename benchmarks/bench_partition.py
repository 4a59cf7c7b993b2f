"""Graph partitioner: ibmb's multilevel partitioner beside METIS (pymetis).

For each graph and part count, prints the edge cut (undirected edges between
parts), the balance (heaviest part / average part, unit node weights) and the
wall time of both, measured in the same run. Target (issue 4): ibmb's cut
within 10% of METIS's at balance <= 1.05.

Graphs: Cora-sized CSBM, the GitHub and Facebook graphs (../shared/data) and
a generated 100k-node CSBM graph.

With --others, also the fast configurations of two other multilevel
partitioners where their PyPI wheels are installed (`pip install kaminpar
kahip`): KaMinPar (deep multilevel with label propagation; its "fast" and
"default" contexts, all cores) and KaHIP (kaffpa "fast" and "fastsocial"),
on the same graphs, same part counts and 3% imbalance, in the same run. They
answer how fast a partitioner can be at METIS's cut on this machine.

Usage: python benchmarks/bench_partition.py [--markdown FILE] [--others]
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

import ibmb
from ibmb.batching import partition

DATA = Path(os.environ.get("IBMB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def karate(name: str) -> np.ndarray:
    e = np.loadtxt(DATA / "karateclub" / name / "edges.csv", delimiter=",", skiprows=1, dtype=np.int64).T
    return np.concatenate([e, e[::-1]], axis=1)


def graphs():
    for name in ("github", "facebook"):
        if (DATA / "karateclub" / name / "edges.csv").is_file():
            yield name, karate(name)
    d = ibmb.datasets.csbm(num_nodes=100_000, num_classes=16, avg_degree=10, homophily=0.8, num_features=0, seed=0)
    yield "CSBM 100k", d.edge_index


def stats(g, parts, k):
    ei = g.edge_index()
    cut = int((parts[ei[0]] != parts[ei[1]]).sum()) // 2
    sizes = np.bincount(parts, minlength=k)
    return cut, sizes.max() / (len(parts) / k)


def metis_arrays(g) -> tuple:
    """(xadj, adjncy) of a symmetric CSRGraph without its self-loops (METIS rejects them)."""
    indptr, indices = g.csr()
    rows = np.repeat(np.arange(g.num_nodes), np.diff(indptr))
    keep = rows != indices
    xadj = np.zeros(g.num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=g.num_nodes), out=xadj[1:])
    return xadj, indices[keep]


def kaminpar_graph(xadj: np.ndarray, adjncy: np.ndarray):
    """A kaminpar.Graph of (xadj, adjncy); its Python API loads graphs from files only, so through a METIS file."""
    import tempfile

    import kaminpar

    with tempfile.NamedTemporaryFile("w", suffix=".metis", delete=False) as f:
        f.write(f"{len(xadj) - 1} {len(adjncy) // 2}\n")
        for v in range(len(xadj) - 1):
            f.write(" ".join(map(str, adjncy[xadj[v]:xadj[v + 1]] + 1)) + "\n")
    try:
        return kaminpar.load_graph(f.name, kaminpar.GraphFileFormat.METIS)
    finally:
        os.unlink(f.name)


def others(name: str, xadj: np.ndarray, adjncy: np.ndarray, ks, cuts: dict) -> list:
    """Rows for KaMinPar and KaHIP (where importable) on one graph; cuts maps k to METIS's cut."""
    rows = []
    n = len(xadj) - 1
    try:
        import kaminpar
    except ImportError:
        kaminpar = None
    try:
        import kahip
    except ImportError:
        kahip = None
    if kaminpar is not None:
        kg = kaminpar_graph(xadj, adjncy)
        for ctxname in ("fast", "default"):
            for threads in sorted({1, os.cpu_count() or 1}):
                kp = kaminpar.KaMinPar(threads, kaminpar.context_by_name(ctxname))
                for k in ks:
                    kaminpar.reseed(0)
                    t = time.perf_counter()
                    parts = np.asarray(kp.compute_partition(kg, k, 0.03), dtype=np.int64)
                    dt = time.perf_counter() - t
                    rows.append((name, k, f"KaMinPar {kaminpar.__version__ if hasattr(kaminpar, '__version__') else ''} "
                                 f"{ctxname}, {threads} thread(s)", parts, dt))
    if kahip is not None:
        vw = [1] * n
        xa, aj, ew = xadj.tolist(), adjncy.tolist(), [1] * len(adjncy)
        for mode, label in ((kahip.FAST, "fast"), (kahip.FASTSOCIAL, "fastsocial")):
            for k in ks:
                t = time.perf_counter()
                _, parts = kahip.kaffpa(vw, xa, ew, aj, k, 0.03, True, 0, mode)
                dt = time.perf_counter() - t
                rows.append((name, k, f"KaHIP {kahip.__version__} kaffpa {label}, 1 thread",
                             np.asarray(parts, dtype=np.int64), dt))
    out = []
    for gname, k, who, parts, dt in rows:
        cut = int((parts[np.repeat(np.arange(n), np.diff(xadj))] != parts[adjncy]).sum()) // 2
        bal = np.bincount(parts, minlength=k).max() / (n / k)
        out.append(f"| {gname} | {k} | {who} | {cut:,} | {bal:.3f} | {dt:.3f} | {cut / max(cuts[k], 1):.3f} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--markdown")
    ap.add_argument("--others", action="store_true", help="also KaMinPar and KaHIP where installed")
    args = ap.parse_args()
    more = ["", "| graph | parts | partitioner | cut | balance | s | cut / METIS's |", "|---|---:|---|---:|---:|---:|---:|"]
    import pymetis

    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores; ibmb {ibmb.__version__}, pymetis (METIS 5)", "",
             "| graph | nodes | undirected edges | parts | METIS cut | METIS balance | METIS s | ibmb cut | ibmb balance | ibmb s | cut ibmb/METIS |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name, ei in graphs():
        g = ibmb.graph.CSRGraph.from_edge_index(ei, symmetrize=True, drop_duplicates=True)
        xadj, adjncy = metis_arrays(g)
        cuts = {}
        for k in (8, 32, 128):
            t = time.perf_counter()
            _, mparts = pymetis.part_graph(k, xadj=xadj, adjncy=adjncy)
            t_metis = time.perf_counter() - t
            mparts = np.asarray(mparts, dtype=np.int64)
            t = time.perf_counter()
            iparts = partition(g, k, imbalance=0.03)
            t_ibmb = time.perf_counter() - t
            mc, mb = stats(g, mparts, k)
            ic, ib = stats(g, iparts, k)
            cuts[k] = mc
            row = (f"| {name} | {g.num_nodes:,} | {len(adjncy) // 2:,} | {k} | {mc:,} | {mb:.3f} | {t_metis:.2f} | "
                   f"{ic:,} | {ib:.3f} | {t_ibmb:.2f} | {ic / max(mc, 1):.3f} |")
            lines.append(row)
            print(row, flush=True)
        if args.others:
            more += others(name, xadj, adjncy, (8, 32, 128), cuts)
    if args.others:
        lines += more
        print("\n".join(more), flush=True)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
