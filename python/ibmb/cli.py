"""The ``ibmb`` command (also ``python -m ibmb``).

``ibmb demo`` is the main job on the built-in default graph: it generates a
contextual SBM graph, builds its normalized CSR, gathers the feature rows of
random mini-batches (checked against numpy), computes node-wise IBMB batches
for a 10% training split and materializes them into the batch arena,
reporting the time of each step. ``ibmb train``, ``ibmb bench`` and
``ibmb infer`` train and evaluate GNNs with IBMB batches and the baselines
(see :mod:`ibmb.train`).
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Optional, Sequence

import numpy as np

from ibmb._argtypes import (device_name, dropout_rate, method_list, nonneg_float, nonneg_int, open_unit,
                            positive_float, positive_int, probability, seed_int)


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


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="default",
                   help="'default' (built-in generated graph, no download), cora/citeseer/pubmed, ogbn-*, or a "
                        "folder with edges.csv and target.csv (default: default)")
    p.add_argument("--root", default=None, help="dataset root for PyG/OGB datasets")
    p.add_argument("--nodes", type=positive_int, default=100_000, help="nodes of the default graph (default: 100000)")
    p.add_argument("--features", type=nonneg_int, default=64, help="feature width of the default graph (default: 64)")
    p.add_argument("--classes", type=positive_int, default=10, help="classes of the default graph (default: 10)")
    p.add_argument("--degree", type=nonneg_float, default=10.0,
                   help="average degree of the default graph (default: 10)")
    p.add_argument("--homophily", type=probability, default=0.6,
                   help="default graph: probability an edge stays in its class (default: 0.6)")
    p.add_argument("--separation", type=nonneg_float, default=0.3,
                   help="default graph: distance of class feature means in noise units (default: 0.3)")
    p.add_argument("--split-seed", type=seed_int, default=0, help="seed of random splits (default: 0)")


def _train_args(p: argparse.ArgumentParser) -> None:
    from ibmb.train import Config

    c = Config()
    p.add_argument("--model", default=c.model, choices=("gcn", "sage", "gat"), help="GNN (default: gcn)")
    p.add_argument("--hidden", type=positive_int, default=c.hidden, help=f"hidden width (default: {c.hidden})")
    p.add_argument("--layers", type=positive_int, default=c.layers, help=f"layers (default: {c.layers})")
    p.add_argument("--dropout", type=dropout_rate, default=c.dropout, help=f"dropout (default: {c.dropout})")
    p.add_argument("--lr", type=positive_float, default=c.lr, help=f"Adam learning rate (default: {c.lr})")
    p.add_argument("--weight-decay", type=nonneg_float, default=c.weight_decay, help="weight decay (default: 5e-4)")
    p.add_argument("--epochs", type=positive_int, default=c.epochs, help=f"max epochs (default: {c.epochs})")
    p.add_argument("--patience", type=positive_int, default=c.patience,
                   help=f"early stopping patience in epochs (default: {c.patience})")
    p.add_argument("--alpha", type=open_unit, default=c.alpha, help=f"PPR teleport (default: {c.alpha})")
    p.add_argument("--eps", type=positive_float, default=c.eps, help=f"PPR push threshold (default: {c.eps})")
    p.add_argument("--aux", type=positive_int, default=c.num_auxiliary_nodes,
                   help=f"node-wise: auxiliary nodes per output node (default: {c.num_auxiliary_nodes})")
    p.add_argument("--outputs-per-batch", type=positive_int, default=c.num_nodes_per_batch,
                   help=f"output nodes per batch (default: {c.num_nodes_per_batch})")
    p.add_argument("--infer-outputs-per-batch", type=nonneg_int, default=0,
                   help="output nodes per inference batch (default: node-wise max(outputs-per-batch, 4096), "
                        "batch-wise outputs-per-batch)")
    p.add_argument("--partitions", type=nonneg_int, default=0,
                   help="batch-wise: partitions (default: outputs / outputs-per-batch)")
    p.add_argument("--expand-ratio", type=positive_float, default=c.batch_expand_ratio,
                   help="batch-wise: auxiliary nodes per batch = ratio * nodes / partitions "
                        f"(default: {c.batch_expand_ratio})")
    p.add_argument("--infer-expand-ratio", type=nonneg_float, default=0.0,
                   help="batch-wise: expand ratio of the inference batches (default: --expand-ratio)")
    p.add_argument("--batch-order", default=c.batch_order, choices=("order", "sample", "rand"),
                   help="IBMB batch order (default: order)")
    p.add_argument("--batch-size", type=positive_int, default=c.batch_size,
                   help=f"NeighborLoader seed nodes per batch (default: {c.batch_size})")
    p.add_argument("--device", default="cpu", type=device_name, help="cpu or cuda[:i] (default: cpu)")
    p.add_argument("--eval-every", type=positive_int, default=c.eval_every, help="validate every n epochs (default: 1)")
    p.add_argument("--val-nodes", type=nonneg_int, default=0,
                   help="validate on at most this many random val nodes (default: all)")
    p.add_argument("--seeds", type=positive_int, default=1,
                   help="runs with seeds 0..n-1, accuracies averaged (default: 1)")
    p.add_argument("--threads", type=nonneg_int, default=0, help="torch and engine threads (default: all cores)")
    p.add_argument("--plot", default=None, help="write accuracy vs inference time as PNG here")
    p.add_argument("--profile-gpu", action="store_true",
                   help="profile the GPU through NVML (summary in the table, plot next to --plot or ./)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _config(args: argparse.Namespace) -> "Any":
    from ibmb.train import Config

    return Config(model=args.model, hidden=args.hidden, layers=args.layers, dropout=args.dropout, lr=args.lr,
                  weight_decay=args.weight_decay, epochs=args.epochs, patience=args.patience, alpha=args.alpha,
                  eps=args.eps, num_auxiliary_nodes=args.aux, num_nodes_per_batch=args.outputs_per_batch,
                  infer_nodes_per_batch=args.infer_outputs_per_batch, batch_expand_ratio=args.expand_ratio,
                  infer_expand_ratio=args.infer_expand_ratio,
                  num_partitions=args.partitions, batch_order=args.batch_order, batch_size=args.batch_size,
                  device=args.device, eval_every=args.eval_every, val_nodes=args.val_nodes,
                  progress=False if args.quiet else None)


def _load_data(args: argparse.Namespace) -> "Any":
    from ibmb import data as D

    t = time.perf_counter()
    data = D.load(args.dataset, args.root, num_nodes=args.nodes, num_classes=args.classes, avg_degree=args.degree,
                  num_features=args.features, homophily=args.homophily, separation=args.separation,
                  split_seed=args.split_seed)
    print(f"dataset {getattr(data, 'name', args.dataset)}: {data.num_nodes:,} nodes, {data.edge_index.shape[1]:,} "
          f"directed edges, {data.x.shape[1]} features, {int(data.y.max()) + 1} classes, split "
          f"{int(data.train_mask.sum())}/{int(data.val_mask.sum())}/{int(data.test_mask.sum())} "
          f"(loaded in {time.perf_counter() - t:.1f} s)")
    return data


def _jobs(args: argparse.Namespace, methods: list) -> int:
    import contextlib

    import ibmb
    from ibmb import train as T

    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
        ibmb.set_num_threads(args.threads)
    data = _load_data(args)
    cfg = _config(args)
    prof_ctx: Any = contextlib.nullcontext(None)
    if args.profile_gpu:
        prof_ctx = ibmb.profile(device=_cuda_index(args.device))
    with prof_ctx as prof:
        results = T.run(methods, data, cfg, seeds=range(args.seeds), log=None if args.quiet else print)
    print()
    print(T.table(results))
    if prof is not None:
        _report_profile(prof, args)
    if args.plot:
        T.plot(results, args.plot, title=f"{getattr(data, 'name', args.dataset)}, {cfg.model.upper()}")
        print(f"plot written to {args.plot}")
    if getattr(args, "save_model", None):
        _save_model(args, results[0], data, cfg)
    unavailable = [r for r in results if r.note.startswith("unavailable")]
    if unavailable and len(unavailable) == len(results):  # nothing could run (e.g. `train --method neighbor`)
        for r in unavailable:
            print(f"{r.method}: {r.note}", file=sys.stderr)
        return 1
    return 0 if all(r in unavailable or r.test_acc == r.test_acc for r in results) else 1


def _cuda_index(device: str) -> int:
    return int(device.split(":")[1]) if device.startswith("cuda:") else 0


def _report_profile(prof: "Any", args: argparse.Namespace) -> None:
    if not getattr(prof, "available", False):
        print(f"GPU profile: unavailable ({getattr(prof, 'reason', 'unknown reason')})")
        return
    s = prof.summary
    items = s.items() if isinstance(s, dict) else vars(s).items()
    print("GPU profile: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in items))
    import os

    path = os.path.splitext(args.plot)[0] + "-gpu.png" if args.plot else "ibmb-gpu-profile.png"
    prof.plot(path)
    print(f"GPU profile plot written to {path}")


def _save_model(args: argparse.Namespace, res: "Any", data: "Any", cfg: "Any") -> None:
    import dataclasses

    import torch

    model = res.extra.get("model")
    if model is None:
        return
    torch.save({"config": dataclasses.asdict(cfg), "state_dict": model.state_dict(), "method": res.method,
                "in_channels": int(data.x.shape[1]), "num_classes": int(data.y.max()) + 1,
                "dataset": args.dataset}, args.save_model)
    print(f"model written to {args.save_model}")


def train_cmd(args: argparse.Namespace) -> int:
    return _jobs(args, [args.method])


def bench_cmd(args: argparse.Namespace) -> int:
    from ibmb.train import METHODS

    methods = args.methods if isinstance(args.methods, list) else method_list(args.methods)
    return _jobs(args, [m for m in methods if m in METHODS])


def infer_cmd(args: argparse.Namespace) -> int:
    import torch

    import ibmb
    from ibmb import train as T

    ck = torch.load(args.model_file, map_location="cpu", weights_only=False)
    cfg = T.Config(**{k: v for k, v in ck["config"].items() if k in T.Config.__dataclass_fields__})
    cfg.device = args.device
    data = _load_data(args)
    if data.x.shape[1] != ck["in_channels"]:
        print(f"the model expects {ck['in_channels']} features, the dataset has {data.x.shape[1]}", file=sys.stderr)
        return 2
    model = T.GNN(cfg.model, ck["in_channels"], cfg.hidden, ck["num_classes"], cfg.layers, cfg.dropout)
    model.load_state_dict(ck["state_dict"])
    model = model.to(cfg.device).eval()
    t = time.perf_counter()
    if args.batches and __import__("os").path.exists(args.batches):
        loader = ibmb.IBMBNodeLoader.load(args.batches, data, batch_order=None, device=cfg.device)
        how = f"loaded {args.batches}"
    else:
        npb = T.infer_outputs_per_batch(cfg, "node")
        loader = ibmb.IBMBNodeLoader(data, None, data.test_mask, cfg.num_auxiliary_nodes, npb,
                                     alpha=cfg.alpha, eps=cfg.eps, norm="sym", add_self_loops=True,
                                     device=cfg.device, progress=False if args.quiet else None)
        how = "built"
        if args.batches:
            loader.save(args.batches)
            how += f", saved to {args.batches}"
    pre = time.perf_counter() - t
    with T.PeakMemory(cfg.device) as mem:
        t = time.perf_counter()
        ids, pred = T._batched_predict(model, loader, cfg.device, True)
        dt = time.perf_counter() - t
    y = data.y[ids]
    keep = y >= 0
    acc = float((pred[keep] == y[keep]).float().mean())
    print(_table([("test batches", f"{loader.num_batches} ({how}) in {pre:.3f} s"),
                  ("inference", f"{dt:.3f} s over {len(ids):,} output nodes"),
                  ("test accuracy", f"{100 * acc:.2f}"),
                  ("peak memory", f"{mem.peak / 2**20:.0f} MiB")]))
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
    from ibmb.train import METHODS

    t = sub.add_parser("train", help="train a GNN with IBMB batches (or a baseline) and report the figures")
    _data_args(t)
    _train_args(t)
    t.add_argument("--method", default="ibmb-node", choices=METHODS, help="batching method (default: ibmb-node)")
    t.add_argument("--save-model", default=None, help="write the trained model (torch.save) here")
    b = sub.add_parser("bench", help="train and infer with IBMB and the baselines, same model, same run")
    _data_args(b)
    _train_args(b)
    b.add_argument("--methods", default="all", type=method_list,
                   help=f"comma-separated subset of {','.join(METHODS)} (default: all)")
    i = sub.add_parser("infer", help="inference over the test nodes with a model written by train --save-model")
    _data_args(i)
    i.add_argument("--model-file", required=True, help="the model file")
    i.add_argument("--batches", default=None, help="saved test batches to load (or to write when missing)")
    i.add_argument("--device", default="cpu", type=device_name, help="cpu or cuda[:i] (default: cpu)")
    i.add_argument("--quiet", action="store_true", help="no progress bars")
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
