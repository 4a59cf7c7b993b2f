"""Training and inference with ibmb's IBMB loaders beside the baselines, same
model, same hyperparameters, same run (issue 5).

For every dataset it runs ``ibmb.train.run`` over the methods, prints the
summary table, the target ratios (inference vs full-neighbourhood
NeighborLoader, epoch time vs PyG's IBMB loaders and NeighborLoader, loader
overhead share of an epoch) and writes the accuracy-vs-inference-time plot to
benchmarks/out/.

    python benchmarks/bench_train.py --datasets cora,twitch
    python benchmarks/bench_train.py --datasets default --nodes 1000000 --epochs 10 --val-nodes 5000 --isolate

--isolate runs every method in a child process of its own (one after the other, so the timings never overlap):
a method that runs out of memory on a large graph is reported as killed instead of ending the whole run, and
peak memory is per method. The children write their Result as JSON; the parent prints the table.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import subprocess
import tempfile
import os
import platform
import sys
import time
from pathlib import Path

import torch
from _common import DATA, cora

HERE = Path(__file__).resolve().parent


def load(name: str, args: argparse.Namespace):
    from ibmb import data as D

    if name == "cora":
        return cora(HERE / "out" / "planetoid")
    if name in ("twitch", "github", "facebook"):
        return D.load(str(DATA / "karateclub" / name))
    return D.load("default", num_nodes=args.nodes, homophily=args.homophily, separation=args.separation)


def describe(name: str, args: argparse.Namespace):
    """Loads dataset name and prints a line about it."""
    t = time.perf_counter()
    data = load(name, args)
    print(f"\n## {name}: {data.num_nodes:,} nodes, {data.edge_index.shape[1]:,} directed edges, "
          f"{data.x.shape[1]} features, split {int(data.train_mask.sum())}/{int(data.val_mask.sum())}/"
          f"{int(data.test_mask.sum())} (loaded in {time.perf_counter() - t:.1f} s)")
    sys.stdout.flush()
    return data


def config(name: str, args: argparse.Namespace):
    from ibmb import train as T

    npb = args.outputs_per_batch or {"cora": 32, "twitch": 2048}.get(name, 1024)
    return T.Config(model=args.model, epochs=args.epochs, patience=args.patience, num_nodes_per_batch=npb,
                    infer_nodes_per_batch=args.infer_outputs_per_batch, batch_expand_ratio=args.expand_ratio,
                    infer_expand_ratio=args.infer_expand_ratio,
                    val_nodes=args.val_nodes, eval_every=args.eval_every, progress=False)


def child(args: argparse.Namespace) -> int:
    """--isolate's child: one dataset, one method; the Result goes to --result-json."""
    from ibmb import train as T

    name = args.datasets
    data = describe(name, args)
    res = T.run([args.methods], data, config(name, args), seeds=range(args.seeds), log=lambda s: print("  " + s))
    rows = []
    for r in res:
        d = dataclasses.asdict(r)
        # extra also carries objects (the trained model); keep what JSON can hold.
        d["extra"] = {k: v for k, v in d["extra"].items() if isinstance(v, (int, float, str, bool, type(None)))}
        rows.append(d)
    Path(args.result_json).write_text(json.dumps(rows))
    return 0


def isolated(name: str, args: argparse.Namespace) -> list:
    """Runs every method of args.methods on dataset name in a child process of its own."""
    from ibmb import train as T

    out = []
    for m in args.methods.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            js = Path(tmp) / "result.json"
            cmd = [sys.executable, __file__, "--datasets", name, "--methods", m, "--result-json", str(js)]
            for k in ("nodes", "homophily", "separation", "epochs", "patience", "seeds", "val_nodes", "eval_every",
                      "outputs_per_batch", "infer_outputs_per_batch", "expand_ratio", "infer_expand_ratio",
                      "model"):
                cmd += ["--" + k.replace("_", "-"), str(getattr(args, k))]
            t = time.perf_counter()
            proc = subprocess.run(cmd)
            if proc.returncode == 0 and js.exists():
                out += [T.Result(**r) for r in json.loads(js.read_text())]
            else:
                why = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
                out.append(T.Result(method=m, note=f"failed: {why} after {time.perf_counter() - t:.0f} s"))
                print(f"  {m}: {out[-1].note}")
        sys.stdout.flush()
    return out


def main() -> int:
    import ibmb
    from ibmb import train as T

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cora,twitch")
    p.add_argument("--methods", default=",".join(T.METHODS))
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--homophily", type=float, default=0.6)
    p.add_argument("--separation", type=float, default=0.3)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--val-nodes", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=1)
    p.add_argument("--outputs-per-batch", type=int, default=0, help="0: per dataset default")
    p.add_argument("--infer-outputs-per-batch", type=int, default=0,
                   help="outputs per IBMB inference batch (0: ibmb.train.infer_outputs_per_batch's rule)")
    p.add_argument("--expand-ratio", type=float, default=1.0, help="batch_expand_ratio of the batch-wise loaders")
    p.add_argument("--infer-expand-ratio", type=float, default=0.0,
                   help="expand ratio of the batch-wise inference batches (0: --expand-ratio)")
    p.add_argument("--model", default="gcn")
    p.add_argument("--isolate", action="store_true", help="one child process per method")
    p.add_argument("--result-json", default="", help=argparse.SUPPRESS)  # child mode of --isolate
    args = p.parse_args()
    if args.result_json:
        return child(args)
    print(f"# machine: {platform.node()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), ibmb {ibmb.__version__}, cuda: {ibmb.cuda_status() or 'available'}")
    (HERE / "out").mkdir(exist_ok=True)
    for name in args.datasets.split(","):
        cfg = config(name, args)
        if args.isolate:
            # The children load the dataset and describe it; the parent holds nothing.
            print(f"\n## {name} (one process per method)\nconfig: {T.config_dict(cfg)}")
            res = isolated(name, args)
        else:
            data = describe(name, args)
            print(f"config: {T.config_dict(cfg)}")
            res = T.run(args.methods.split(","), data, cfg, seeds=range(args.seeds), log=lambda s: print("  " + s))
        print()
        print(T.table(res))
        by = {r.method: r for r in res}

        def ratio(a: str, b: str, key: str) -> str:
            x, y = getattr(by.get(a), key, math.nan) if a in by else math.nan, \
                getattr(by.get(b), key, math.nan) if b in by else math.nan
            return "-" if not (math.isfinite(x) and math.isfinite(y) and x > 0) else f"{y / x:.2f}x"

        print()
        for m in ("ibmb-node", "ibmb-batch"):
            if m not in by or not math.isfinite(by[m].test_acc):
                continue
            r = by[m]
            nb = by.get("neighbor")
            dacc = (100 * (r.test_acc - nb.test_acc)) if nb is not None and math.isfinite(nb.test_acc) else math.nan
            share = r.loader_s / r.epoch_s if r.epoch_s > 0 else math.nan
            print(f"{m}: inference {ratio(m, 'neighbor', 'infer_s')} faster than full-neighbourhood NeighborLoader "
                  f"(accuracy {dacc:+.2f} points); epoch {ratio(m, 'neighbor', 'epoch_s')} faster than "
                  f"NeighborLoader, {ratio(m, 'pyg-' + m, 'epoch_s')} faster than PyG's {m}; loader time "
                  f"{100 * share:.1f}% of an epoch")
        png = HERE / "out" / f"train-{name}.png"
        T.plot(res, str(png), title=f"{name}, {cfg.model.upper()}")
        print(f"plot: {png}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
