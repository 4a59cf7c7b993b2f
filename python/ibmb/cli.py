"""The ``ibmb`` command (also ``python -m ibmb``).

``ibmb demo`` is the main job on the built-in default graph: it generates a
contextual SBM graph, builds its normalized CSR, gathers the feature rows of
random mini-batches (checked against numpy), computes node-wise IBMB batches
for a 10% training split and materializes them into the batch arena,
reporting the time of each step. ``ibmb train``, ``ibmb bench`` and
``ibmb infer`` train and evaluate GNNs with IBMB batches and the baselines
(see :mod:`ibmb.train`); their options are generated from the fields of
:class:`ibmb.train.Config` and :class:`ibmb.train.DataSpec`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Optional, Sequence

import numpy as np

from ibmb._argtypes import method_list, nonneg_float, nonneg_int, positive_int, seed_int
from ibmb.train.config import Config, DataSpec, add_flags, config_dict, from_args
from ibmb.train.methods import names as method_names

METHODS = method_names()


def _table(rows: list[tuple[str, str]]) -> str:
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(w)}  {v}" for k, v in rows)


def demo(args: argparse.Namespace) -> int:
    import ibmb
    from ibmb.graph import CSRGraph

    rows: list[tuple[str, str]] = [("ibmb", ibmb.__version__), ("threads", str(ibmb.num_threads())),
                                   ("cuda", ibmb.cuda_status() or "available")]
    t = time.perf_counter()
    data = ibmb.datasets.csbm(num_nodes=args.nodes, num_classes=args.classes, avg_degree=args.degree,
                              num_features=args.features, seed=args.seed)
    rows.append(("generate graph", f"{time.perf_counter() - t:.3f} s  ({data.num_nodes:,} nodes, "
                 f"{data.edge_index.shape[1]:,} edges, {data.x.shape[1]} features)"))
    t = time.perf_counter()
    g = CSRGraph.from_edge_index(data.edge_index, data.num_nodes, symmetrize=True, drop_duplicates=True,
                                 add_self_loops=True)
    w = g.edge_weight("sym")
    rows.append(("build CSR (sym)", f"{time.perf_counter() - t:.3f} s  ({g.num_edges:,} edges, "
                 f"weights in [{w.min():.4f}, {w.max():.4f}])"))
    rng = np.random.default_rng(args.seed)
    batches = [rng.choice(data.num_nodes, size=min(args.batch, data.num_nodes), replace=False)
               for _ in range(args.batches)]
    out = np.empty((len(batches[0]), data.x.shape[1]), dtype=np.float32)
    t = time.perf_counter()
    for b in batches:
        ibmb.gather(data.x, b, out=out)
    dt = time.perf_counter() - t
    moved = sum(len(b) for b in batches) * data.x.shape[1] * 4
    t = time.perf_counter()
    for b in batches:
        ref = np.take(data.x, b, axis=0)
    dt_np = time.perf_counter() - t
    ok = all(np.array_equal(ibmb.gather(data.x, b), data.x[b]) for b in batches[:3])
    sub = g.induced(batches[0][: min(1000, len(batches[0]))])
    rows.append(("gather (ibmb)", f"{moved / dt / 1e9:.2f} GB/s  ({args.batches} batches of {len(batches[0]):,} rows)"))
    rows.append(("gather (numpy.take)", f"{moved / dt_np / 1e9:.2f} GB/s"))
    rows.append(("gather == numpy", str(ok)))
    rows.append(("induced subgraph", f"{sub.num_nodes:,} nodes, {sub.num_edges:,} edges"))
    del ref
    # IBMB: node-wise batches for a 10% training split, materialized into the arena.
    from ibmb.batching import Arena, node_wise

    train = np.sort(rng.choice(data.num_nodes, size=max(1, data.num_nodes // 10), replace=False))
    t = time.perf_counter()
    batches = node_wise(g, train, num_auxiliary_nodes=16, num_nodes_per_batch=1024, alpha=0.25, eps=2e-4)
    t_batches = time.perf_counter() - t
    arena = Arena.build(g, batches, x=data.x, y=data.y, norm="sym")
    t_arena = time.perf_counter() - t - t_batches
    rows.append(("IBMB node-wise", f"{t_batches:.3f} s  ({len(batches)} batches for {len(train):,} output nodes, "
                 f"top-16 PPR, <= 1024 outputs per batch)"))
    rows.append(("batch arena", f"{t_arena:.3f} s  ({arena.nbytes / 2**20:.0f} MiB: ids, mask, edges, weights, "
                 "labels, features)"))
    print("ibmb demo: built-in default graph (contextual SBM)")
    print(_table(rows))
    return 0 if ok else 1


def _job_args(p: argparse.ArgumentParser) -> None:
    """Options of the train and bench jobs that are not hyperparameters."""
    add_flags(p, DataSpec)
    add_flags(p, Config)
    p.add_argument("--seeds", type=positive_int, default=1,
                   help="runs with seeds 0..n-1, accuracies averaged (default: 1)")
    p.add_argument("--threads", type=nonneg_int, default=0, help="torch and engine threads (default: all cores)")
    p.add_argument("--plot", default=None,
                   help="write a PNG here: validation accuracy vs training time, test accuracy vs inference time")
    p.add_argument("--json", default=None, help="write the results as JSON here (fields: see the README)")
    p.add_argument("--profile-gpu", action="store_true",
                   help="profile the GPU through NVML (summary in the table, plot next to --plot or ./)")


def _load_data(spec: DataSpec) -> Any:
    t = time.perf_counter()
    data = spec.load()
    print(f"dataset {getattr(data, 'name', spec.dataset)}: {data.num_nodes:,} nodes, {data.edge_index.shape[1]:,} "
          f"directed edges, {data.x.shape[1]} features, {int(data.y.max()) + 1} classes, split "
          f"{int(data.train_mask.sum())}/{int(data.val_mask.sum())}/{int(data.test_mask.sum())} "
          f"(loaded in {time.perf_counter() - t:.1f} s)")
    return data


def _dataset_info(data: Any, spec: DataSpec) -> dict:
    return {"name": getattr(data, "name", spec.dataset), "num_nodes": int(data.num_nodes),
            "num_edges": int(data.edge_index.shape[1]), "num_features": int(data.x.shape[1]),
            "num_classes": int(data.y.max()) + 1, "train": int(data.train_mask.sum()),
            "val": int(data.val_mask.sum()), "test": int(data.test_mask.sum()), "spec": config_dict(spec)}


def _set_threads(n: int) -> None:
    if n > 0:
        import torch

        import ibmb

        torch.set_num_threads(n)
        ibmb.set_num_threads(n)


def _jobs(args: argparse.Namespace, methods: list, baseline: Optional[str] = None) -> int:
    import contextlib

    from ibmb import distributed

    if distributed.wanted(args):  # --nproc N or torchrun: every rank runs this function again (ibmb.distributed)
        return distributed.start(args, _jobs, methods, baseline)
    import ibmb
    from ibmb.train import comparison, plot, results_json, table, write_json
    from ibmb.train import run as run_here

    run = distributed.run if distributed.active() else run_here
    _set_threads(args.threads)
    spec = from_args(DataSpec, args)
    data = _load_data(spec)
    cfg = from_args(Config, args)
    prof_ctx: Any = contextlib.nullcontext(None)
    if args.profile_gpu:
        prof_ctx = ibmb.profile(device=_cuda_index(cfg.device))
    with prof_ctx as prof:
        results = run(methods, data, cfg, seeds=range(args.seeds), log=None if cfg.progress is False else print)
    print()
    print(table(results))
    if baseline and len(results) > 1:
        vs = comparison(results, baseline)
        if vs:
            print()
            print(vs)
    if prof is not None:
        _report_profile(prof, args)
    title = f"{getattr(data, 'name', spec.dataset)}, {cfg.model.upper()}"
    if args.plot:
        plot(results, args.plot, title=title)
        print(f"plot written to {args.plot}")
    if args.json:
        write_json(args.json, results_json(args.cmd, results, config_dict(cfg), _dataset_info(data, spec), baseline))
        print(f"results written to {args.json}")
    if getattr(args, "save_model", None):
        _save_model(args.save_model, results[0], data, cfg, spec)
    unavailable = [r for r in results if not r.available]
    if unavailable and len(unavailable) == len(results):  # nothing could run (e.g. `train --method neighbor`)
        for r in unavailable:
            print(f"{r.method}: {r.note}", file=sys.stderr)
        return 1
    return 0 if all(not r.available or r.test_acc == r.test_acc for r in results) else 1


def _cuda_index(device: str) -> int:
    return int(device.split(":")[1]) if device.startswith("cuda:") else 0


def _report_profile(prof: Any, args: argparse.Namespace) -> None:
    if not getattr(prof, "available", False):
        print(f"GPU profile: unavailable ({getattr(prof, 'reason', 'unknown reason')})")
        return
    s = prof.summary
    items = s.items() if isinstance(s, dict) else vars(s).items()
    print("GPU profile: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in items))
    path = os.path.splitext(args.plot)[0] + "-gpu.png" if args.plot else "ibmb-gpu-profile.png"
    prof.plot(path)
    print(f"GPU profile plot written to {path}")


def _save_model(path: str, res: Any, data: Any, cfg: Config, spec: DataSpec) -> None:
    import torch

    model = res.extra.get("model")
    if model is None:
        return
    torch.save({"config": config_dict(cfg), "state_dict": model.state_dict(), "method": res.method,
                "in_channels": int(data.x.shape[1]), "num_classes": int(data.y.max()) + 1,
                "dataset": spec.dataset, "data": config_dict(spec)}, path)
    print(f"model written to {path}")


def train_cmd(args: argparse.Namespace) -> int:
    return _jobs(args, [args.method])


def bench_cmd(args: argparse.Namespace) -> int:
    methods = args.methods if isinstance(args.methods, list) else method_list(args.methods)
    return _jobs(args, [m for m in methods if m in METHODS], baseline=args.baseline)


def infer_cmd(args: argparse.Namespace) -> int:
    """Inference over the test nodes with a model written by ``train
    --save-model``, with the batches of the method it was trained with."""
    import dataclasses

    import torch

    from ibmb.train import PeakMemory, Result, Unavailable, evaluate, methods, results_json, write_json

    ck = torch.load(args.model_file, map_location="cpu", weights_only=False)
    known = {f.name for f in dataclasses.fields(Config)}
    cfg = Config(**{k: v for k, v in ck["config"].items() if k in known})
    cfg.device, cfg.progress = args.device, args.progress
    name = ck.get("method", "ibmb-node")
    spec = from_args(DataSpec, args)
    data = _load_data(spec)
    if data.x.shape[1] != ck["in_channels"]:
        print(f"the model expects {ck['in_channels']} features, the dataset has {data.x.shape[1]}", file=sys.stderr)
        return 2
    try:
        method = methods.create(name, data, cfg)
    except Unavailable as e:
        print(f"{name}: unavailable: {e}", file=sys.stderr)
        return 1
    model = method.build_model(ck["in_channels"], ck["num_classes"])
    model.load_state_dict(ck["state_dict"])
    model = model.to(cfg.device).eval()
    try:
        with PeakMemory(cfg.device) as mem:
            ev = evaluate(method, model, data.test_mask, data.y.cpu(), path=args.batches)
    except ValueError as e:  # e.g. --batches for a method without saved batches, or a file of the other kind
        print(f"error: {e}", file=sys.stderr)
        return 2
    count = ev["batches"].count
    print(_table([("method", f"{name} ({cfg.model})"),
                  ("test batches", f"{'' if count is None else count} ({ev['batches'].note}) in "
                                   f"{ev['prepare_s']:.3f} s"),
                  ("inference", f"{ev['infer_s']:.3f} s over {len(ev['ids']):,} output nodes"),
                  ("test accuracy", f"{100 * ev['acc']:.2f}"),
                  ("peak memory", f"{mem.peak / 2**20:.0f} MiB")]))
    if args.json:
        r = Result(name, test_acc=ev["acc"], test_acc_std=0.0, test_accs=[ev["acc"]], seeds=1,
                   infer_s=ev["infer_s"], infer_preprocess_s=ev["prepare_s"], peak_infer_bytes=mem.peak,
                   cuda_peak_bytes=mem.cuda_peak, note=ev["batches"].note)
        write_json(args.json, results_json("infer", [r], config_dict(cfg), _dataset_info(data, spec),
                                           model_file=args.model_file))
        print(f"results written to {args.json}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="ibmb", description="Influence-based mini-batching for GNNs.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="cmd")
    d = sub.add_parser("demo", help="run the engine's steps on the built-in default graph")
    d.add_argument("--nodes", type=positive_int, default=100_000, help="nodes of the generated graph (default: 100000)")
    d.add_argument("--classes", type=positive_int, default=10, help="classes (default: 10)")
    d.add_argument("--degree", type=nonneg_float, default=10.0, help="average degree (default: 10)")
    d.add_argument("--features", type=nonneg_int, default=64, help="feature width (default: 64)")
    d.add_argument("--batch", type=positive_int, default=8192, help="rows per gathered batch (default: 8192)")
    d.add_argument("--batches", type=positive_int, default=50, help="batches to gather (default: 50)")
    d.add_argument("--seed", type=seed_int, default=0, help="random seed (default: 0)")
    t = sub.add_parser("train", help="train a GNN with IBMB batches (or a baseline) and report the figures")
    _job_args(t)
    t.add_argument("--method", default="ibmb-node", choices=METHODS, help="batching method (default: ibmb-node)")
    t.add_argument("--save-model", default=None, help="write the trained model (torch.save) here")
    b = sub.add_parser("bench", help="train and infer with IBMB and the baselines, same model, same run")
    _job_args(b)
    b.add_argument("--methods", default="all", type=method_list,
                   help=f"comma-separated subset of {','.join(METHODS)} (default: all)")
    b.add_argument("--baseline", default="neighbor", choices=METHODS,
                   help="the method the others are compared with: accuracy deltas and speed-ups (default: "
                        "neighbor, PyG's NeighborLoader with full-neighbourhood inference)")
    i = sub.add_parser("infer", help="inference over the test nodes with a model written by train --save-model, "
                                     "with the batches of the method it was trained with")
    add_flags(i, DataSpec)
    i.add_argument("--model-file", required=True, help="the model file")
    i.add_argument("--batches", default=None,
                   help="ibmb-node/ibmb-batch models: saved test batches to load (or to write when missing)")
    add_flags(i, Config, only=("device", "progress"))
    i.add_argument("--json", default=None, help="write the result as JSON here (fields: see the README)")
    try:
        args = p.parse_args(argv)
        if str(getattr(args, "device", "cpu")).startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                sub.choices[args.cmd].error(f"argument --device: {args.device} needs a CUDA GPU, but "
                                            "torch.cuda.is_available() is False")
    except SystemExit as e:  # argparse printed usage and the error (or the help): return its status
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    if args.version:
        import ibmb

        print(ibmb.__version__)
        return 0
    cmds = {"demo": demo, "train": train_cmd, "bench": bench_cmd, "infer": infer_cmd}
    if args.cmd in cmds:
        return cmds[args.cmd](args)
    p.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
