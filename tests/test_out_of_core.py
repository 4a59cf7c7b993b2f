"""Features larger than memory (issue 15, item 6): ``x`` is a memory map of a
file, and building batches, building an arena (in memory and straight into a
file) and training an epoch read only the rows of the batches.

The budget: a child process (a fresh interpreter, so nothing else shares its
memory) may grow its resident set by at most half the size of the feature
file. An RLIMIT_AS bound is not used: the Go runtime and torch reserve far
more address space than they touch, so an address-space limit below the file
size fails at start-up, not where features would be loaded. The resident set
(VmRSS, its peak VmHWM reset by ``/proc/self/clear_refs`` after start-up)
counts every mapped page a process touched, file pages included, so it does
catch a full read of the map (``np.ascontiguousarray``/``.copy()`` of x, a
sum over x, a check of every value) as well as a private copy (RssAnon). The
file's pages are dropped from the page cache before the child starts, so what
the child maps is what it read. Batches touch ~10% of the rows.
"""
from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ibmb
from ibmb._testing import run_script

PYTHON_DIR = str(Path(ibmb.__file__).resolve().parents[1])
N, F = 196_608, 1024  # float32 rows of 4 KiB (one page): a 768 MiB file

CHILD = r'''
import json, os, re, sys
import numpy as np
import torch
import ibmb
from ibmb.arena import Arena
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv

path, arena_path, n, f, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)

from ibmb._testing import map_rss, proc_status as status

rng = np.random.default_rng(seed)
src = rng.integers(0, n, 4 * n)
dst = rng.integers(0, n, 4 * n)
edge_index = torch.from_numpy(np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])]))
y = torch.from_numpy(rng.integers(0, 4, n))
train = torch.from_numpy(np.sort(rng.choice(n, 600, replace=False)))
# Warm up what every run allocates once (engine, torch kernels), so that the
# budget measures features, not start-up.
ibmb.gather(torch.zeros(4, 3), np.array([1, 2]))
GCNConv(3, 2, normalize=False)(torch.zeros(2, 3), torch.tensor([[0], [1]]), torch.ones(1)).sum().backward()

with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset VmHWM to the current VmRSS
base = status()

x = ibmb.data.map_features(path, f)
data = Data(x=x, edge_index=edge_index, y=y, num_nodes=n)
torch.manual_seed(seed)
conv1, conv2 = GCNConv(f, 16, normalize=False), GCNConv(16, 4, normalize=False)
params = list(conv1.parameters()) + list(conv2.parameters())
opt = torch.optim.Adam(params, lr=0.01)
runs, rows, mismatched = [], set(), 0
# Features stored in the arena (read from the map once, while it is built),
# then gathered from the map at every step.
for store in (True, False):
    loader = ibmb.IBMBNodeLoader(data, "rand", train, 16, 100, alpha=0.25, eps=2e-4, norm="sym",
                                 add_self_loops=True, store_features=store)
    before = [p.detach().clone() for p in params]
    steps, losses = 0, []
    for batch in loader:
        h = conv1(batch.x, batch.edge_index, batch.edge_weight).relu()
        out = conv2(h, batch.edge_index, batch.edge_weight)[:batch.batch_size]
        loss = torch.nn.functional.cross_entropy(out, batch.y[:batch.batch_size])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        # The rows a batch carries are x's rows n_id (torch's own indexing
        # of the same map).
        mismatched += int(not torch.equal(batch.x, x.index_select(0, batch.n_id)))
        steps += 1
        rows.update(batch.n_id.tolist())
    runs.append({"store": store, "features_in_arena": loader.stats()["features_in_arena"], "steps": steps,
                 "num_batches": loader.num_batches, "losses": losses,
                 "changed": sum(int(not torch.equal(a, p.detach())) for a, p in zip(before, params))})
epoch = status()
# ... and the rows of the file itself (column 0 holds the row id).
with open(path, "rb") as fh:
    for i in sorted(rows)[:: max(1, len(rows) // 50)]:
        fh.seek(i * f * 4)
        row = np.frombuffer(fh.read(f * 4), np.float32)
        mismatched += int(row[0] != i or not np.array_equal(row, x[i].numpy()))

# The arena built straight into a file holds the same batches as the
# loader's and the same rows of x.
g = ibmb.graph.CSRGraph.from_edge_index(edge_index, n, drop_duplicates=True, add_self_loops=True)
arena = Arena.build(g, loader.batches, x=x, y=y, norm="sym", path=arena_path)
for b in range(arena.num_batches):
    v, w = arena[b], loader.arena[b]
    same = all(np.array_equal(getattr(v, k), getattr(w, k)) for k in ("n_id", "edge_index", "edge_weight", "y"))
    mismatched += int(not same or not np.array_equal(v.x, x.numpy()[v.n_id]))
file_ok = os.path.getsize(arena_path) == arena.nbytes and Arena.load(arena_path, verify=True).num_batches == arena.num_batches
end = status()
print(json.dumps({"base": base, "epoch": epoch, "end": end, "map_rss": map_rss(os.path.realpath(path)),
                  "runs": runs, "rows": len(rows), "mismatched": mismatched, "arena_file_ok": file_ok,
                  "arena_bytes": arena.nbytes}))
'''


def write_features(path: Path, rng: np.random.Generator) -> None:
    """N x F float32 rows written in chunks (the writer never holds the whole
    file): a random block repeated, with the row id in column 0 so that every
    row differs; synced and dropped from the page cache."""
    block = rng.standard_normal((8192, F), dtype=np.float32)
    with open(path, "wb") as fh:
        for lo in range(0, N, 8192):
            m = min(8192, N - lo)
            block[:m, 0] = np.arange(lo, lo + m)
            fh.write(block[:m].tobytes())
        fh.flush()
        os.fsync(fh.fileno())
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def run_child(tmp_path: Path, *args: str, timeout: float = 240) -> dict:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {"PYTHONPATH": PYTHON_DIR, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    rc, out, err = run_script(str(script), list(args), env, str(tmp_path), timeout)
    assert rc == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status and smaps")
def test_features_larger_than_budget(tmp_path, rng):
    path = tmp_path / "x.f32"
    try:
        write_features(path, rng)
        size = path.stat().st_size
        r = run_child(tmp_path, str(path), str(tmp_path / "arena.ibmb"), str(N), str(F),
                      str(int(rng.integers(1 << 31))))
    finally:  # pytest keeps recent temporary folders: do not leave 768 MiB behind
        path.unlink(missing_ok=True)
    budget = size // 2
    mib = {k: {a: b >> 20 for a, b in r[k].items()} for k in ("base", "epoch", "end")}
    print(f"file {size >> 20} MiB, budget {budget >> 20} MiB, rows read {r['rows']}, map resident "
          f"{r['map_rss'] >> 20} MiB, arena {r['arena_bytes'] >> 20} MiB; status in MiB: {mib}")
    assert [run["features_in_arena"] for run in r["runs"]] == [True, False]
    for run in r["runs"]:
        assert run["steps"] == run["num_batches"] > 1, run
        assert all(np.isfinite(run["losses"])) and run["changed"] == 4, run  # the epoch trained every parameter
    assert r["mismatched"] == 0 and r["arena_file_ok"]
    touched = r["rows"] * F * 4  # the feature bytes the batches need
    assert touched < size // 10  # the setting: batches need a small part of x
    grow = r["end"]["VmHWM"] - r["base"]["VmRSS"]
    anon = r["end"]["RssAnon"] - r["base"]["RssAnon"]
    # Nothing close to a full read or a copy of x: the peak growth, the
    # private memory and the pages of the map stay within the budget, and
    # the map holds about the pages of the rows read (one page a row).
    assert grow < budget, f"resident set grew by {grow:,} bytes, budget {budget:,} (file {size:,})"
    assert anon < budget, f"private memory grew by {anon:,} bytes, budget {budget:,}"
    assert r["map_rss"] < budget, f"{r['map_rss']:,} bytes of the map resident, budget {budget:,}"


def test_arena_built_into_file_equals_saved(tmp_path, rng):
    """Arena.build(path=...) writes the bytes build-then-save writes, serves
    the same batches, and leaves no temporary file."""
    import torch

    from ibmb.arena import Arena
    from ibmb.batching import node_wise
    from ibmb.graph import CSRGraph

    n = 300
    ei = rng.integers(0, n, (2, 1200))
    g = CSRGraph.from_edge_index(np.concatenate([ei, ei[::-1]], 1), n, drop_duplicates=True)
    batches = node_wise(g, np.sort(rng.choice(n, 40, replace=False)), 8, 10)
    x = torch.from_numpy(rng.standard_normal((n, 6), dtype=np.float32))
    y = rng.integers(0, 3, n)
    ref = Arena.build(g, batches, x=x, y=y, params={"k": 1})
    ref.save(tmp_path / "ref.ibmb")
    a = Arena.build(g, batches, x=x, y=y, params={"k": 1}, path=tmp_path / "a.ibmb")
    assert (tmp_path / "a.ibmb").read_bytes() == (tmp_path / "ref.ibmb").read_bytes()
    assert a.params == {"k": 1} and a.num_batches == ref.num_batches > 1
    for b in range(a.num_batches):
        v, w = a[b], ref[b]
        for k in ("n_id", "edge_index", "edge_weight", "y", "x"):
            assert np.array_equal(getattr(v, k), getattr(w, k)), k
    a[0].x[:] = 0  # copy-on-write, as a loaded arena: the file keeps its rows
    assert (tmp_path / "a.ibmb").read_bytes() == (tmp_path / "ref.ibmb").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ibmb", "ref.ibmb"]


def test_arena_build_into_file_errors(tmp_path):
    from ibmb.arena import Arena
    from ibmb.batching import node_wise
    from ibmb.graph import CSRGraph

    g = CSRGraph.from_edge_index(np.array([[0, 1, 2, 1, 2, 3], [1, 2, 3, 0, 1, 2]]), 4)
    batches = node_wise(g, [0, 3], 2, 1)
    x = np.ones((4, 2), np.float32)
    keep = tmp_path / "keep.ibmb"
    keep.write_bytes(b"old")
    with pytest.raises(IsADirectoryError):
        Arena.build(g, batches, x=x, path=tmp_path)
    with pytest.raises(FileNotFoundError):
        Arena.build(g, batches, x=x, path=tmp_path / "missing" / "a.ibmb")
    with pytest.raises(FileNotFoundError):
        Arena.build(g, batches, x=x, path="")
    with pytest.raises(ValueError):  # x of the wrong height: refused before the file is touched
        Arena.build(g, batches, x=np.ones((3, 2), np.float32), path=keep)
    assert keep.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.ibmb"]


def test_map_features(tmp_path, rng):
    """map_features reads .npy headers and raw files, gathers like x[index],
    and refuses files that do not hold whole rows of a gatherable dtype."""
    import torch

    x = rng.standard_normal((50, 7)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    x.tofile(tmp_path / "x.f32")
    idx = rng.integers(0, 50, 30)
    for t in (ibmb.data.map_features(tmp_path / "x.npy"), ibmb.data.map_features(tmp_path / "x.f32", 7)):
        assert t.shape == (50, 7) and t.dtype == torch.float32
        assert np.array_equal(ibmb.gather(t, torch.from_numpy(idx)).numpy(), x[idx])
        t[0] = 0  # copy-on-write: the file is not changed
    assert np.array_equal(np.load(tmp_path / "x.npy"), x)
    with pytest.raises(ValueError, match="whole number"):
        ibmb.data.map_features(tmp_path / "x.f32", 8)
    np.save(tmp_path / "d.npy", x.astype(np.float64))
    with pytest.raises(TypeError, match="float32 or float16"):
        ibmb.data.map_features(tmp_path / "d.npy")
    np.save(tmp_path / "f.npy", np.asfortranarray(x))
    with pytest.raises(ValueError, match="C-order"):
        ibmb.data.map_features(tmp_path / "f.npy")
    (tmp_path / "t.npy").write_bytes((tmp_path / "x.npy").read_bytes()[:-40])
    with pytest.raises(ValueError, match="truncated"):
        ibmb.data.map_features(tmp_path / "t.npy")
    # A dataset folder's features.npy is mapped (float32) or read and
    # converted (other dtypes), with the same values either way.
    for dt in (np.float32, np.float64):
        folder = tmp_path / f"set-{np.dtype(dt).name}"
        folder.mkdir()
        (folder / "edges.csv").write_text("id_1,id_2\n" + "".join(f"{i},{(i + 1) % 50}\n" for i in range(50)))
        (folder / "target.csv").write_text("id,target\n" + "".join(f"{i},{i % 2}\n" for i in range(50)))
        np.save(folder / "features.npy", x.astype(dt))
        d = ibmb.data.load(str(folder))
        assert d.x.dtype == torch.float32 and np.array_equal(d.x.numpy(), x.astype(dt).astype(np.float32))


def test_loader_arena_path(tmp_path, rng):
    """A loader given arena_path builds its arena into that file, which load()
    serves without data (the features are in it)."""
    import torch
    from torch_geometric.data import Data

    n = 200
    ei = rng.integers(0, n, (2, 800))
    x = ibmb.data.map_features(_npy(tmp_path / "x.npy", rng.standard_normal((n, 5)).astype(np.float32)))
    data = Data(x=x, edge_index=torch.from_numpy(np.concatenate([ei, ei[::-1]], 1)),
                y=torch.from_numpy(rng.integers(0, 3, n)), num_nodes=n)
    train = np.sort(rng.choice(n, 30, replace=False))
    loader = ibmb.IBMBNodeLoader(data, None, train, 8, 10, store_features=True, arena_path=tmp_path / "t.ibmb")
    again = ibmb.IBMBNodeLoader.load(tmp_path / "t.ibmb", None, None)
    assert loader.num_batches == again.num_batches > 1
    for a, b in zip(loader, again):
        assert torch.equal(a.n_id, b.n_id) and torch.equal(a.x, b.x) and torch.equal(a.x, x[a.n_id])
        assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.edge_weight, b.edge_weight)


def _npy(path: Path, a: np.ndarray) -> Path:
    np.save(path, a)
    return path


def test_train_features_file(tmp_path, capsys):
    """``ibmb train --features-file x.npy`` trains on the mapped rows; a file
    of another height or dtype is refused clearly."""
    from ibmb.cli import main
    from ibmb.train.config import DataSpec

    n = 3000
    base = DataSpec(nodes=n, features=16, classes=4).load()
    np.save(tmp_path / "x.npy", base.x.numpy() * 2)  # the same features, scaled: still learnable
    spec = DataSpec(nodes=n, features=16, classes=4, features_file=str(tmp_path / "x.npy"))
    data = spec.load()
    assert np.array_equal(data.x.numpy(), base.x.numpy() * 2)
    small = ["--nodes", str(n), "--features", "16", "--classes", "4", "--quiet"]
    assert main(["train", *small, "--epochs", "2", "--outputs-per-batch", "64",
                 "--features-file", str(tmp_path / "x.npy")]) == 0
    np.save(tmp_path / "short.npy", base.x.numpy()[:-1])
    with pytest.raises(ValueError, match="2999 rows"):
        DataSpec(nodes=n, features=16, classes=4, features_file=str(tmp_path / "short.npy")).load()
    np.save(tmp_path / "half.npy", base.x.numpy().astype(np.float16))
    with pytest.raises(TypeError, match="float16"):
        DataSpec(nodes=n, features=16, classes=4, features_file=str(tmp_path / "half.npy")).load()
