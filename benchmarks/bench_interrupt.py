"""Ctrl-C during long engine calls on the built-in 1M-node graph (issue 12).

A child process loads the default graph of ``python -m ibmb train``
(``ibmb.data.load("default", num_nodes=...)``: CSBM, 10 classes, average
degree 10, homophily 0.6, 10% training nodes) and starts each call below;
this script sends it SIGINT a given time after the call started and reports

- latency: from the signal (this process's ``time.monotonic()`` just before
  ``os.kill``) to ``KeyboardInterrupt`` in the child (its ``time.monotonic()``
  on catching it: one clock for both processes);
- CPU after: the child's CPU time (user + system) in the second after the
  exception: what the engine still burns once Python has the exception.

Calls: node-wise PPR over every node (``node_ppr``, top 16, alpha 0.25, eps
2e-4, the training defaults), ``partition`` into ``--parts`` parts,
``node_wise`` over the training nodes (16 auxiliary nodes, 256 per batch) and
``batch_wise`` over the training nodes with ``--parts`` contiguous blocks of
node ids as the partition (a stand-in: the real partition takes minutes and
does not change how the call stops); ``arena_build`` builds a 1.7 GB arena (1000
random batches of ~3200 nodes with 128 float32 features per row) and
``arena_save`` saves it (built before the timed call).

    python benchmarks/bench_interrupt.py                 # 1M nodes, delays 1 and 5 s
    python benchmarks/bench_interrupt.py --nodes 200000 --delays 0.5,2
    python benchmarks/bench_interrupt.py --calls arena_build,arena_save --delays 0.5,2
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import signal
import subprocess
import sys
import threading
import time

CHILD = r"""
from ibmb._testing import interrupt_trial, restore_sigint
restore_sigint()
import faulthandler, json, signal, sys
faulthandler.register(signal.SIGUSR1, all_threads=True)  # the parent asks for stacks when a result is late
import numpy as np
import os, shutil, tempfile
from ibmb.batching import Arena, Batches, batch_wise, node_wise, partition
from ibmb.data import load
from ibmb.graph import CSRGraph
from ibmb.ppr import node_ppr

n, parts_n = int(sys.argv[1]), int(sys.argv[2])
data = load("default", num_nodes=n)
g = CSRGraph.from_edge_index(data.edge_index, n, drop_duplicates=True)
train = np.flatnonzero(data.train_mask.numpy())
blocks = np.arange(n, dtype=np.int64) * parts_n // n
# A big arena for the build and save calls: 1000 batches of ~3200 random nodes (200 outputs each, disjoint) with
# 128 float32 features per row: 1.7 GB.
rng = np.random.default_rng(0)
perm = rng.permutation(n)
nb, per, outs = 1000, 3000, 200
out = np.concatenate([np.sort(perm[i * outs:(i + 1) * outs]) for i in range(nb)])
rows = [np.union1d(out[i * outs:(i + 1) * outs], rng.choice(n, per, replace=False)) for i in range(nb)]
big = Batches(out_ptr=np.arange(nb + 1) * outs, out=out, node_ptr=np.cumsum([0] + [len(r) for r in rows]),
              nodes=np.concatenate(rows))
x = rng.random((n, 128), dtype=np.float32)
folder = tempfile.mkdtemp()
arena = None
calls = {
    "ppr": lambda: node_ppr(g, None, alpha=0.25, eps=2e-4, topk=16, progress=False),
    "partition": lambda: partition(g, parts_n),
    "node_wise": lambda: node_wise(g, train, 16, 256, alpha=0.25, eps=2e-4, progress=False),
    "batch_wise": lambda: batch_wise(g, train, blocks, parts_n, alpha=0.25, eps=2e-4, progress=False),
    "arena_build": lambda: Arena.build(g, big, x=x, y=data.y),
    "arena_save": lambda: arena.save(os.path.join(folder, "big.ibmb")),
}
print("ready", json.dumps({"nodes": g.num_nodes, "edges": g.num_edges, "train": len(train)}), flush=True)

for name in sys.stdin.readline().split():
    if name == "arena_save" and arena is None:
        arena = Arena.build(g, big, x=x, y=data.y)  # not timed: the save is
    print("start", name, flush=True)
    out = interrupt_trial(calls[name], wait_s=3600)
    out["files_left"] = len(os.listdir(folder)) if out["interrupted"] else 0
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    print("result", json.dumps(out), flush=True)
shutil.rmtree(folder)
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--parts", type=int, default=98)
    p.add_argument("--delays", default="1,5", help="seconds after the start of a call to send SIGINT")
    p.add_argument("--calls", default="ppr,partition,node_wise,batch_wise")
    args = p.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    trials = [(c, d) for c in args.calls.split(",") for d in delays]

    load0 = os.getloadavg()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(args.nodes), str(args.parts)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put("")], daemon=True).start()

    def expect(prefix: str, timeout: float = 900) -> str:
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                os.kill(proc.pid, signal.SIGUSR1)  # the child prints its threads' stacks to stderr
                time.sleep(2)
                proc.kill()
                raise SystemExit(f"no {prefix!r} line from the child within {timeout} s (stacks above)") from None
            if not line:
                raise SystemExit(f"child exited before {prefix!r}")
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    info = json.loads(expect("ready "))
    proc.stdin.write(" ".join(c for c, _ in trials) + "\n")
    proc.stdin.flush()
    rows = []
    for name, delay in trials:
        expect("start ")
        time.sleep(delay)
        t_sig = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        r = json.loads(expect("result ", 120))
        rows.append((name, delay, r, t_sig))
        print(f"trial {name} after {delay} s: {json.dumps(r)}", file=sys.stderr, flush=True)
    proc.wait(timeout=60)
    load1 = os.getloadavg()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; graph: {info['nodes']:,} nodes, "
          f"{info['edges']:,} stored edges, {info['train']:,} training nodes; {args.parts} parts")
    print(f"load average (1/5/15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print(f"{'call':<11} {'SIGINT after':>12} {'to KeyboardInterrupt':>21} {'CPU-s in next 1 s':>18}")
    for name, delay, r, t_sig in rows:
        if r["interrupted"]:
            left = f"  ({r['files_left']} files left behind)" if r.get("files_left") else ""
            print(f"{name:<11} {delay:>10.1f} s {1e3 * (r['t_exc'] - t_sig):>18.1f} ms {r['cpu_after']:>18.3f}{left}")
        else:
            print(f"{name:<11} {delay:>10.1f} s   finished first ({r['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
