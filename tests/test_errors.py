"""Bad input gets a clear Python exception with a one-line message (issue 12,
findings 2, 3 and 8, Python side): arrays that become pointers are checked or
made contiguous in one place; integer arguments are integers; empty lists are
empty int64; uint64 values beyond int64 are named; sizes are checked against
memory before allocating; the CLI answers bad values with argparse errors.

What used to abort or crash the interpreter runs in a subprocess.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import ibmb
from ibmb import datasets
from ibmb._arrays import ptr
from ibmb.batching import Arena, BatchOrder, Batches, batch_wise, node_wise, partition
from ibmb.graph import CSRGraph

PYTHON_DIR = str(Path(ibmb.__file__).resolve().parents[1])


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with this ibmb; never hangs the suite."""
    env = {"PYTHONPATH": PYTHON_DIR, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def ring(n: int) -> np.ndarray:
    s = np.arange(n, dtype=np.int64)
    return np.stack([np.concatenate([s, (s + 1) % n]), np.concatenate([(s + 1) % n, s])])


@pytest.fixture(scope="module")
def small():
    """A ring of 60 nodes, 3 node-wise batches, labels in [0, 3)."""
    n = 60
    g = CSRGraph.from_edge_index(ring(n), n)
    b = node_wise(g, np.arange(0, n, 3), 4, 7)
    return g, b, np.arange(n, dtype=np.int64) % 3


def strided(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` as a view with stride 2 elements."""
    s = np.full(2 * len(a), -7, a.dtype)
    s[::2] = a
    return s[::2]


def negative(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` as a view with a negative stride."""
    return a[::-1].copy()[::-1]


def arena_contents(a: Arena) -> list:
    return [a._table.copy()] + [np.concatenate([getattr(v, k).reshape(-1) for v in a])
                                for k in ("n_id", "edge_index", "edge_weight", "y")]


# ------------------------------------------------------------- pointers (3)
@pytest.mark.parametrize("view", [strided, lambda a: a.astype(np.int32), lambda a: list(a)])
def test_arena_and_order_from_strided_batches_give_the_same_result(small, view):
    g, b, y = small
    ref = Arena.build(g, b, y=y)
    ref_order = BatchOrder(b, y, mode="order")
    vb = Batches(*(view(a) for a in (b.out_ptr, b.out, b.node_ptr, b.nodes)))
    for got, want in zip(arena_contents(Arena.build(g, vb, y=view(y))), arena_contents(ref)):
        assert np.array_equal(got, want)
    order = BatchOrder(vb, view(y), mode="order")
    assert np.array_equal(order.distances, ref_order.distances)
    assert np.array_equal(order.epoch(), ref_order.epoch())


def test_negative_stride_batches_do_not_crash():
    # Used to read memory before the array: a segfault, or heap bytes in an error message.
    r = run_python("""
        import numpy as np
        from ibmb.batching import Arena, BatchOrder, Batches, node_wise
        from ibmb.graph import CSRGraph
        n = 60
        s = np.arange(n)
        g = CSRGraph.from_edge_index(np.stack([np.r_[s, (s + 1) % n], np.r_[(s + 1) % n, s]]), n)
        b = node_wise(g, np.arange(0, n, 3), 4, 7)
        y = np.arange(n) % 3
        neg = lambda a: a[::-1].copy()[::-1]
        nb = Batches(*(neg(a) for a in (b.out_ptr, b.out, b.node_ptr, b.nodes)))
        assert nb.nodes.strides[0] < 0
        a, ref = Arena.build(g, nb, y=neg(y)), Arena.build(g, b, y=y)
        assert all(np.array_equal(u.n_id, v.n_id) and np.array_equal(u.edge_index, v.edge_index)
                   for u, v in zip(a, ref))
        d = BatchOrder(nb, neg(y)).distances
        assert np.array_equal(d, BatchOrder(b, y).distances)
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_inconsistent_batch_pointers_are_value_errors(small):
    g, b, y = small
    bad = [Batches(b.out_ptr, b.out, b.node_ptr[::-1].copy(), b.nodes),  # decreasing
           Batches(b.out_ptr, b.out, b.node_ptr[:-1], b.nodes),  # short
           Batches(b.out_ptr, b.out, b.node_ptr + 1, b.nodes),  # not starting at 0
           Batches(b.out_ptr[:2], b.out[:b.out_ptr[1]], b.node_ptr, b.nodes)]  # lengths disagree
    for bb in bad:
        for build in (lambda: Arena.build(g, bb, y=y), lambda: BatchOrder(bb, y)):
            with pytest.raises(ValueError, match="batches") as e:
                build()
            assert "\n" not in str(e.value) and "goroutine" not in str(e.value)


def test_ptr_checks_every_array():
    a = np.arange(10, dtype=np.int64)
    assert ptr(a, np.int64, 10) == a.ctypes.data
    assert ptr(a[:0], np.int64, 0) == 0
    with pytest.raises(ValueError, match="contiguous"):
        ptr(a[::2], np.int64)
    with pytest.raises(ValueError, match="contiguous"):
        ptr(a[::-1], np.int64)
    with pytest.raises(TypeError, match="int64"):
        ptr(a.astype(np.int32), np.int64)
    with pytest.raises(ValueError, match="11 elements"):
        ptr(a, np.int64, 11)
    ro = a.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        ptr(ro, np.int64, writable=True)
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        ptr([1, 2], np.int64)
    t = torch.arange(10)
    assert ptr(t, torch.int64, 10) == t.data_ptr()
    with pytest.raises(ValueError, match="contiguous"):
        ptr(t[::2], torch.int64)


# ------------------------------------------------- integer arguments (8)
BAD_INTS = [3.5, 3.0, "3", True, np.float64(3)]


@pytest.mark.parametrize("bad", BAD_INTS, ids=repr)
def test_counts_must_be_integers(small, bad):
    g, b, y = small
    ids = np.arange(10)
    calls = [
        lambda: CSRGraph.from_edge_index(ring(3), num_nodes=bad),
        lambda: partition(g, bad),
        lambda: node_wise(g, ids, bad, 8),
        lambda: node_wise(g, ids, 4, bad),
        lambda: batch_wise(g, ids, np.zeros(60, np.int64), bad),
        lambda: ibmb.get_ppr(ring(5), topk=bad),
        lambda: datasets.csbm(num_nodes=bad, num_features=4),
        lambda: datasets.csbm(num_nodes=100, num_features=bad),
        lambda: datasets.csbm(num_nodes=100, num_classes=bad),
        lambda: datasets.csbm(num_nodes=100, seed=bad),
        lambda: BatchOrder(b, y, num_classes=bad),
        lambda: BatchOrder(b, y, seed=bad),
        lambda: ibmb.set_num_threads(bad),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(TypeError, match="must be an integer") as e:
            call()
        assert "\n" not in str(e.value), i


def test_numpy_integers_are_accepted(small):
    g, _, _ = small
    assert CSRGraph.from_edge_index(ring(5), num_nodes=np.int32(7)).num_nodes == 7
    assert partition(g, np.int64(3)).max() == 2
    assert datasets.csbm(num_nodes=np.uint16(50), num_features=np.int8(2), num_classes=2).x.shape == (50, 2)


def test_counts_out_of_range(small):
    g, _, _ = small
    with pytest.raises(ValueError, match="num_nodes must be >= 0"):
        CSRGraph.from_edge_index(ring(5), num_nodes=-1)
    with pytest.raises(ValueError, match="num_partitions"):
        partition(g, 0)
    with pytest.raises(ValueError, match="exceeds the graph's 60 nodes"):  # used to panic in the engine
        batch_wise(g, np.arange(10), np.zeros(60, np.int64), 2**62)
    with pytest.raises(ValueError, match="exceeds"):
        partition(g, 61)


def test_loader_counts_must_be_integers(cora):
    train = cora.train_mask
    for kwargs in (dict(num_auxiliary_nodes=2.5), dict(num_nodes_per_batch="8"), dict(batch_size=2.0),
                   dict(prefetch=1.5), dict(seed=True), dict(num_workers=0.5)):
        args = dict(num_auxiliary_nodes=4, num_nodes_per_batch=64)
        args.update(kwargs)
        with pytest.raises(TypeError, match="must be an integer"):
            ibmb.IBMBNodeLoader(cora, "rand", train, **args)
    with pytest.raises(TypeError, match="num_partitions must be an integer"):
        ibmb.IBMBBatchLoader(cora, "rand", True, train)


# --------------------------------------------- empty lists, uint64 (8)
def test_empty_python_lists_are_empty_int64():
    g = CSRGraph.from_edge_index([[], []], num_nodes=3)
    assert (g.num_nodes, g.num_edges) == (3, 0)
    assert CSRGraph.from_edge_index([], num_nodes=2).num_edges == 0
    x = np.ones((4, 2), np.float32)
    assert ibmb.gather(x, []).shape == (0, 2)
    assert ibmb.gather(torch.from_numpy(x), []).shape == (0, 2)
    with pytest.raises(ValueError, match="empty"):
        node_wise(CSRGraph.from_edge_index(ring(5)), [], 4, 8)
    with pytest.raises(ValueError, match="empty"):
        ibmb.get_ppr(ring(5), target=[])
    ei, w = ibmb.get_ppr([[0, 1], [1, 0]], target=[1])
    assert ei.dtype == np.int64 and ei[0].tolist() == [1, 1]


@pytest.mark.parametrize("big", [np.array([2**64 - 1], np.uint64), [2**64 - 1], np.array([2**63], np.uint64)])
def test_uint64_beyond_int64_is_named(big):
    value = str(int(np.asarray(big)[0]))
    x = np.ones((4, 2), np.float32)
    for call in (lambda: ibmb.gather(x, big), lambda: node_wise(CSRGraph.from_edge_index(ring(5)), big, 4, 8),
                 lambda: CSRGraph.from_edge_index([np.asarray(big, np.uint64), np.zeros(1, np.uint64)])):
        with pytest.raises(ValueError, match=value):
            call()
    with pytest.raises(ValueError, match="does not fit"):
        ibmb.gather(x, [2**64])


def test_cuda_loader_without_gpu_is_unavailable(cora, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ibmb.UnavailableError, match="is_available"):
        ibmb.IBMBNodeLoader(cora, "rand", cora.train_mask, 4, 64, device="cuda")
    with pytest.raises(ValueError, match="device"):
        ibmb.IBMBNodeLoader(cora, "rand", cora.train_mask, 4, 64, device="tpu")


# ------------------------------------------- sizes before allocating (2)
def test_sizes_are_checked_before_allocating():
    # Each of these aborted the interpreter (Go: fatal error: runtime: out of memory).
    r = run_python("""
        import numpy as np, torch
        from torch_geometric.data import Data
        import ibmb
        from ibmb.batching import BatchOrder, batch_wise, node_wise
        from ibmb.graph import CSRGraph
        n = 60
        s = np.arange(n)
        ei = np.stack([np.r_[s, (s + 1) % n], np.r_[(s + 1) % n, s]])
        g = CSRGraph.from_edge_index(ei, n)
        b = node_wise(g, np.arange(0, n, 3), 4, 7)
        y = np.arange(n) % 3
        big_y = y.copy()
        big_y[5] = 2**40
        data = Data(x=torch.ones(n, 4), edge_index=torch.from_numpy(ei), y=torch.from_numpy(big_y))
        cases = {
            "loader label 2**40": lambda: ibmb.IBMBNodeLoader(data, "order", None, 4, 7),
            "num_classes 2**32": lambda: BatchOrder(b, y, num_classes=2**32),
            "label 2**62": lambda: BatchOrder(b, np.where(y == 0, 2**62, y)),
            "num_partitions 2**33": lambda: batch_wise(g, s, np.zeros(n, np.int64), 2**33),
            "csbm 10**9 features": lambda: ibmb.datasets.csbm(num_nodes=10**4, num_features=10**9),
        }
        for name, call in cases.items():
            try:
                call()
                print(f"{name}: no error")
            except Exception as e:
                print(f"{name}: {type(e).__name__}: {e}".replace("\\n", " | "))
    """)
    assert r.returncode == 0, f"rc {r.returncode}: {r.stdout}\n{r.stderr[-3000:]}"
    lines = dict(line.split(": ", 1) for line in r.stdout.strip().splitlines())
    assert len(lines) == 5, r.stdout
    for name in ("loader label 2**40", "num_classes 2**32", "label 2**62", "csbm 10**9 features"):
        assert lines[name].startswith("MemoryError: "), (name, lines[name])
        assert "available" in lines[name] and "|" not in lines[name]
    assert "1099511627776" in lines["loader label 2**40"]
    assert lines["num_partitions 2**33"].startswith("ValueError: num_partitions=8589934592 exceeds")


def test_labels_must_lie_below_num_classes(small):
    _, b, y = small
    with pytest.raises(ValueError, match="label 2 but num_classes is 2"):
        BatchOrder(b, y, num_classes=2)


# ------------------------------------------------------------- CLI (8)
@pytest.mark.parametrize("argv,option", [
    (["train", "--seeds", "0"], "--seeds"),
    (["train", "--epochs", "-1"], "--epochs"),
    (["train", "--method", "bogus"], "--method"),
    (["bench", "--methods", "full,magic"], "--methods"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--alpha", "1.5"], "--alpha"),
    (["train", "--eps", "-1e-4"], "--eps"),
    (["train", "--dropout", "abc"], "--dropout"),
    (["train", "--nodes", "3.5"], "--nodes"),
    (["demo", "--batch", "0"], "--batch"),
    (["train", "--device", "gpu"], "--device"),
])
def test_cli_bad_values_are_argparse_errors(argv, option, capsys):
    from ibmb.cli import main

    # Small sizes, so that a missed check fails fast instead of training.
    rc = main(argv + ["--quiet", "--nodes", "200", "--epochs", "1"] if argv[0] != "demo" else argv + ["--nodes", "200"])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and f"argument {option}" in lines[0] and "Traceback" not in err, err
