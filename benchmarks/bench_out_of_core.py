"""Features larger than memory (issue 15, item 6): resident memory of one
IBMBNodeLoader build and epoch over a memory-mapped feature file, against the
same run with x read into memory (the baseline) and with a plain
``torch.from_file`` map (no access advice), each in a fresh process.

    python benchmarks/bench_out_of_core.py [--nodes 196608] [--features 1024] [--train 600] [--dir /tmp]

Prints, per way of opening x: rows the batches read, the resident set's peak
growth over the run (VmHWM reset after start-up), private memory growth
(RssAnon), the map's resident bytes, and the wall time of build + epoch.
The file's pages are dropped from the page cache before each run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ibmb._testing import map_rss, proc_status  # noqa: E402


def child(path: str, mode: str, n: int, f: int, train_n: int) -> None:
    import torch
    from torch_geometric.data import Data

    import ibmb

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n)
    edge_index = torch.from_numpy(np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])]))
    y = torch.from_numpy(rng.integers(0, 4, n))
    train = torch.from_numpy(np.sort(rng.choice(n, train_n, replace=False)))
    ibmb.gather(torch.zeros(4, 3), np.array([1, 2]))
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = proc_status()
    t = time.perf_counter()
    if mode == "map_features":
        x = ibmb.data.map_features(path, f)
    elif mode == "torch.from_file":
        x = torch.from_file(path, shared=False, size=n * f).view(n, f)
    else:  # in memory: the whole file read
        x = torch.from_numpy(np.fromfile(path, np.float32).reshape(n, f))
    data = Data(x=x, edge_index=edge_index, y=y, num_nodes=n)
    model = torch.nn.Linear(f, 4)
    opt = torch.optim.Adam(model.parameters())
    rows = set()
    for store in (True, False):
        loader = ibmb.IBMBNodeLoader(data, "rand", train, 16, 100, alpha=0.25, eps=2e-4, norm="sym",
                                     add_self_loops=True, store_features=store)
        for batch in loader:
            loss = torch.nn.functional.cross_entropy(model(batch.x)[:batch.batch_size], batch.y[:batch.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
            rows.update(batch.n_id.tolist())
    wall = time.perf_counter() - t
    end = proc_status()
    print(json.dumps({"rows": len(rows), "grow": end["VmHWM"] - base["VmRSS"], "anon": end["RssAnon"] - base["RssAnon"],
                      "map": map_rss(os.path.realpath(path)), "wall": wall}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=196_608)
    ap.add_argument("--features", type=int, default=1024)
    ap.add_argument("--train", type=int, default=600)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child[0], a.child[1], a.nodes, a.features, a.train)
    n, f = a.nodes, a.features
    with tempfile.TemporaryDirectory(dir=a.dir) as d:
        path = os.path.join(d, "x.f32")
        block = np.random.default_rng(1).standard_normal((8192, f), dtype=np.float32)
        with open(path, "wb") as fh:
            for lo in range(0, n, 8192):
                fh.write(block[:min(8192, n - lo)].tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        size = os.path.getsize(path)
        print(f"feature file: {n} x {f} float32 = {size / 2**20:.0f} MiB; {a.train} training nodes, node-wise "
              f"batches (16 auxiliary nodes, 100 outputs per batch), arena with stored features then gathered "
              f"per step, one epoch each")
        print("| x opened as | rows read | MiB of rows | peak RSS growth MiB | RssAnon growth MiB | map resident MiB "
              "| build+epochs s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for mode in ("in memory (np.fromfile, baseline)", "torch.from_file", "map_features"):
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
            out = subprocess.run([sys.executable, __file__, "--nodes", str(n), "--features", str(f), "--train",
                                  str(a.train), "--child", path, mode.split(" ")[0] if mode.startswith("in ")
                                  else mode], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            m = 2**20
            print(f"| {mode} | {r['rows']} | {r['rows'] * f * 4 / m:.0f} | {r['grow'] / m:.0f} | {r['anon'] / m:.0f} "
                  f"| {r['map'] / m:.0f} | {r['wall']:.1f} |")


if __name__ == "__main__":
    main()
