"""Merged batches (``batch_size > 1``) on Cora: one step's merge and one
epoch, for the engine's step inducer (what the loaders use), the former
per-step ArenaBuild, a numpy merge over the CSR arrays, and PyG's
IBMBNodeLoader with the same batch_size (needs torch-sparse) (issue 12).

    python benchmarks/bench_merge.py [--reps 30]

Times are medians over ``--reps`` repetitions (milliseconds).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import ibmb
from ibmb.arena import Arena
from ibmb.batching import Batches
from _common import cora


def median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def arena_merge(loader, group):
    """The former merge: an arena of one batch built per step."""
    return arena_merge_views(loader, [loader.arena[int(b)] for b in group])


def arena_merge_views(loader, views):
    out = np.unique(np.concatenate([v.n_id[:v.batch_size] for v in views]))
    nodes = np.unique(np.concatenate([v.n_id for v in views]))
    b = Batches(np.array([0, len(out)], np.int64), out, np.array([0, len(nodes)], np.int64), nodes)
    x = loader.converter.x if loader.arena.row_bytes else None
    y = loader.arena.node_labels() if loader.arena.has_labels else None
    return Arena.build(loader._graph, b, x=x, y=y, norm=loader.arena.norm)[0]


def numpy_merge(loader, group, indptr, indices, deg):
    """The merged batch's ids and induced edges from the CSR arrays (sym weights)."""
    views = [loader.arena[int(b)] for b in group]
    out = np.unique(np.concatenate([v.n_id[:v.batch_size] for v in views]))
    nodes = np.unique(np.concatenate([v.n_id for v in views]))
    n_id = np.concatenate([out, nodes[~np.isin(nodes, out, assume_unique=True)]])
    local = np.full(len(deg), -1, np.int64)
    local[n_id] = np.arange(len(n_id))
    cnt = deg[n_id]
    pos = np.repeat(indptr[n_id] - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
    src, dst = np.repeat(np.arange(len(n_id)), cnt), local[indices[pos]]
    keep = dst >= 0
    src, dst = src[keep], dst[keep]
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    inv = 1 / np.sqrt(np.maximum(np.bincount(src, minlength=len(n_id)), 1))
    return n_id, np.stack([src, dst]), (inv[src] * inv[dst]).astype(np.float32)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=30)
    args = p.parse_args()
    data = cora(Path(tempfile.mkdtemp()))
    for npb, mask in ((16, data.train_mask), (64, data.test_mask)):
        kw = dict(num_auxiliary_nodes=16, num_nodes_per_batch=npb, batch_size=4, prefetch=0)
        new = ibmb.IBMBNodeLoader(data, None, mask, **kw)
        nb = new.num_batches
        merge = new.collate_fn.merger.merge
        groups = [g for g in (np.arange(i, min(i + 4, nb)) for i in range(0, nb, 4)) if len(g) > 1]  # the loader's
        indptr, indices = (np.asarray(a) for a in new._graph.csr())
        deg = np.diff(indptr)
        step = {
            "engine step inducer": median_ms(lambda: [merge([new.arena[int(b)] for b in g]) for g in groups],
                                             args.reps) / len(groups),
            "ArenaBuild per step (before)": median_ms(lambda: [arena_merge(new, g) for g in groups],
                                                      args.reps) / len(groups),
            "numpy merge": median_ms(lambda: [numpy_merge(new, g, indptr, indices, deg) for g in groups],
                                     args.reps) / len(groups),
        }
        old = ibmb.IBMBNodeLoader(data, None, mask, **kw)
        old.collate_fn = lambda views, old=old: old.converter.to_data(
            views[0] if len(views) == 1 else arena_merge_views(old, views))
        epoch = {"ibmb (step inducer)": median_ms(lambda: list(new), args.reps),
                 "ibmb (ArenaBuild per step, before)": median_ms(lambda: list(old), args.reps)}
        try:
            from torch_geometric.loader.ibmb_loader import IBMBNodeLoader

            pyg = IBMBNodeLoader(data, batch_order="rand", input_nodes=mask.nonzero().view(-1),
                                 num_auxiliary_nodes=16, num_nodes_per_batch=npb, batch_size=4)
            epoch["PyG IBMBNodeLoader"] = median_ms(lambda: list(pyg), args.reps)
        except ImportError as e:
            epoch["PyG IBMBNodeLoader"] = f"unavailable ({e})"
        print(f"Cora, {int(mask.sum())} outputs, <= {npb} per batch: {new.num_batches} batches, batch_size=4 -> "
              f"{len(new)} steps per epoch")
        for k, v in step.items():
            print(f"  merge one step   {k:<36} {v:8.3f} ms")
        for k, v in epoch.items():
            print(f"  epoch            {k:<36} " + (f"{v:8.3f} ms" if isinstance(v, float) else v))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
