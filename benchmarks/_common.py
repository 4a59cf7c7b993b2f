"""What the benchmarks share: their command line, and the worker processes
that measure one method each.

A benchmark that reports peak memory runs every measurement in a process of
its own (``ru_maxrss`` is a high-water mark of the whole process): the
parent runs ``python bench_x.py --worker METHOD --graph NAME --SIZE N``
through ``run_worker``, and ``parse`` answers such a call by running the
worker and printing its result as one JSON line.

The scripts are run as ``python benchmarks/bench_x.py``, so this module is
imported as ``_common`` (the script's folder is first on ``sys.path``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional

import numpy as np

#: The real data sets (see its README), beside the repository unless IBMB_DATA names another folder.
DATA = Path(os.environ.get("IBMB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose help is the script's docstring ``doc``, as written."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def peak_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse(ap: argparse.ArgumentParser, worker: Callable[[str, str, int], dict],
          size: str) -> Optional[argparse.Namespace]:
    """Parse the command line of ``ap`` plus the worker's ``--worker`` and
    ``--graph``. In a worker process (``--worker`` given) run
    ``worker(method, graph, args.<size>)``, print its result as one JSON line
    and return None; else return the arguments."""
    ap.add_argument("--worker")
    ap.add_argument("--graph")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.graph, getattr(args, size))))
        return None
    return args


def run_worker(script: str, method: str, graph: str, size: str, value: int) -> dict:
    """Run ``script``'s worker for ``method`` on ``graph`` (``--<size>
    value``) in a new process and return its result; a failed worker raises
    RuntimeError with the end of its stderr."""
    cmd = [sys.executable, script, "--worker", method, "--graph", graph, f"--{size}", str(value)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{method} on {graph} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def karateclub_csv(name: str, file: str) -> np.ndarray:
    """The int64 table of ``file`` (``edges.csv``, ``target.csv``) of the
    karateclub graph ``name``, header skipped."""
    return np.loadtxt(DATA / "karateclub" / name / file, delimiter=",", skiprows=1, dtype=np.int64)


def cora(root: Path):
    """Cora as ``ibmb.data.load`` gives it, from the shared raw Planetoid
    files copied under ``root`` (PyG's layout ``root/Cora/raw``) unless they
    are there already."""
    from ibmb.data import load

    raw = root / "Cora" / "raw"
    if not raw.is_dir():
        shutil.copytree(DATA / "planetoid" / "Cora" / "raw", raw)
    return load("cora", str(root))


def github_edges() -> tuple[np.ndarray, int]:
    """GitHub's edge_index with both directions ([2, E] int64, contiguous)
    and its node count."""
    e = karateclub_csv("github", "edges.csv").T
    ei = np.ascontiguousarray(np.concatenate([e, e[::-1]], axis=1))
    return ei, int(ei.max()) + 1


def add_sizes(ap: argparse.ArgumentParser, rows: Optional[str], counts: Optional[str], count_help: str,
              rows_note: str = "") -> None:
    """Add ``--rows`` (row sizes in bytes, ``rows_note``) and ``--counts``
    (``count_help``), both comma-separated lists read with ``sizes``; a None
    default leaves the script's own list."""
    ap.add_argument("--rows", default=rows, help=f"comma-separated row sizes in bytes{rows_note}"
                    + (f" (default: {rows})" if rows else " (overrides the default list)"))
    ap.add_argument("--counts", default=counts, help=f"comma-separated {count_help}, e.g. 1e5,1e6"
                    + (f" (default: {counts})" if counts else " (overrides the default list)"))


def sizes(text: str) -> list[int]:
    """The whole numbers of a comma-separated list such as ``256,1e5``."""
    return [int(float(v)) for v in text.split(",")]
