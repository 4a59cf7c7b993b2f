"""ibmb.batching.partition with its three methods: "ibmb" (the engine),
"kaminpar" and "metis" (their PyPI packages).

The KaMinPar and METIS adapters are tested twice: against small fakes of the
``kaminpar`` / ``pymetis`` modules put into ``sys.modules`` (so the adapters'
inputs, options and outputs are checked on every machine, with or without
the packages), and against the real packages where installed. The
unavailable path hides the package.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import ibmb
from ibmb import partitioners
from ibmb.batching import partition
from ibmb.graph import CSRGraph


def two_cliques(m: int = 12) -> np.ndarray:
    """[2, E] edge_index (both directions) of two m-cliques joined by one edge."""
    src, dst = [], []
    for base in (0, m):
        for i in range(m):
            for j in range(i + 1, m):
                src += [base + i, base + j]
                dst += [base + j, base + i]
    src += [m - 1, m]
    dst += [m, m - 1]
    return np.array([src, dst], dtype=np.int64)


def cut(ei: np.ndarray, parts: np.ndarray) -> int:
    return int((parts[ei[0]] != parts[ei[1]]).sum()) // 2


def grid(rows: int, cols: int) -> np.ndarray:
    u = np.arange(rows * cols).reshape(rows, cols)
    e = np.concatenate([np.stack([u[:, :-1].ravel(), u[:, 1:].ravel()]),
                        np.stack([u[:-1].ravel(), u[1:].ravel()])], axis=1)
    return np.concatenate([e, e[::-1]], axis=1)


# --- fakes of the external packages -------------------------------------------------------------

class FakePymetis(types.ModuleType):
    """Records part_graph's arguments; puts the first half of the nodes in part 0."""

    def __init__(self):
        super().__init__("pymetis")
        self.calls = []

        class Options:
            def __init__(self):
                self.ufactor, self.seed = -1, -1

        class CSRAdjacency:
            def __init__(self, adj_starts, adjacent):
                self.adj_starts, self.adjacent = adj_starts, adjacent

        self.Options, self.CSRAdjacency = Options, CSRAdjacency

    def part_graph(self, nparts, adjacency=None, *, vweights=None, options=None):
        self.calls.append(dict(nparts=nparts, xadj=np.asarray(adjacency.adj_starts),
                               adjncy=np.asarray(adjacency.adjacent), vweights=vweights,
                               ufactor=options.ufactor, seed=options.seed))
        n = len(adjacency.adj_starts) - 1
        return 0, [min(i * nparts // n, nparts - 1) for i in range(n)]


class FakeKaminpar(types.ModuleType):
    """Loads the ParHIP file it is given and returns node % k."""

    def __init__(self):
        super().__init__("kaminpar")
        self.calls = []
        fake = self

        class GraphFileFormat:
            METIS, PARHIP = 0, 1

        class KaMinPar:
            def __init__(self, threads, ctx):
                self.threads = threads

            def compute_partition(self, graph, k, eps):
                fake.calls.append(dict(threads=self.threads, k=k, eps=eps, graph=graph, seed=fake.seed_value))
                return [i % k for i in range(graph["n"])]

        self.GraphFileFormat, self.KaMinPar = GraphFileFormat, KaMinPar
        self.seed_value = None

    def reseed(self, seed):
        self.seed_value = seed

    def default_context(self):
        return object()

    def load_graph(self, path, fmt):
        assert fmt == self.GraphFileFormat.PARHIP
        raw = open(path, "rb").read()
        version, n, m = np.frombuffer(raw[:24], dtype=np.uint64)
        offs = np.frombuffer(raw[24:24 + 8 * (n + 1)], dtype=np.uint64)
        base = 24 + 8 * (n + 1)
        adj = np.frombuffer(raw[base:base + 4 * m], dtype=np.uint32)
        weights = None
        if not version & 2:
            weights = np.frombuffer(raw[base + 4 * m:base + 4 * m + 4 * n], dtype=np.uint32)
        return {"n": int(n), "m": int(m), "version": int(version),
                "xadj": (offs.astype(np.int64) - base) // 4, "adj": adj.astype(np.int64), "weights": weights}


@pytest.fixture
def fake_metis(monkeypatch):
    mod = FakePymetis()
    monkeypatch.setitem(sys.modules, "pymetis", mod)
    return mod


@pytest.fixture
def fake_kaminpar(monkeypatch):
    mod = FakeKaminpar()
    monkeypatch.setitem(sys.modules, "kaminpar", mod)
    return mod


# --- ibmb ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [2, 3, 8])
def test_ibmb_balanced_and_good(k):
    ei = grid(30, 30)
    parts = partition(ei, k)
    assert parts.dtype == np.int64 and parts.shape == (900,)
    sizes = np.bincount(parts, minlength=k)
    assert sizes.min() > 0 and sizes.max() <= 1.03 * 900 / k + 1
    rand = cut(ei, np.random.default_rng(0).permutation(parts))
    assert cut(ei, parts) < 0.2 * rand


def test_ibmb_deterministic_across_runs_and_threads():
    ei = grid(40, 25)
    a = partition(ei, 7, seed=3, num_threads=1)
    b = partition(ei, 7, seed=3, num_threads=1)
    c = partition(ei, 7, seed=3, num_threads=2)
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_ibmb_github_same_partition_twice(github_edges):
    a = partition(github_edges, 32, seed=1)
    b = partition(github_edges, 32, seed=1)
    assert np.array_equal(a, b)


def test_method_is_checked():
    with pytest.raises(ValueError, match="method must be one of"):
        partition(two_cliques(), 2, method="scotch")


# --- METIS --------------------------------------------------------------------------------------

def test_metis_adapter(fake_metis):
    ei = two_cliques()
    ei = np.concatenate([ei, [[3, 3, 5], [3, 3, 6]]], axis=1)  # a self-loop and a repeated edge 5-6
    w = np.arange(24, dtype=np.int64) % 3
    parts = partition(ei, 2, node_weight=w, imbalance=0.05, seed=7, method="metis")
    assert parts.dtype == np.int64 and parts.shape == (24,)
    assert list(parts) == [0] * 12 + [1] * 12
    (call,) = fake_metis.calls
    assert call["nparts"] == 2 and call["ufactor"] == 50 and call["seed"] == 7
    assert call["vweights"] == w.tolist()
    xadj, adjncy = call["xadj"], call["adjncy"]
    assert xadj[-1] == len(adjncy) == 2 * (2 * 66 + 1)  # simple, symmetric, no self-loop
    rows = np.repeat(np.arange(24), np.diff(xadj))
    assert not (rows == adjncy).any()
    assert set(zip(rows.tolist(), adjncy.tolist())) == set(zip(adjncy.tolist(), rows.tolist()))


@pytest.mark.parametrize("method", ["metis", "kaminpar"])
def test_external_trivial_cases(method, fake_metis, fake_kaminpar):
    ei = two_cliques(4)
    assert list(partition(ei, 1, method=method)) == [0] * 8
    assert list(partition(ei, 8, method=method)) == list(range(8))
    assert not fake_metis.calls and not fake_kaminpar.calls
    for k in (0, 9):  # as with method="ibmb": at least one part, at most one per node
        with pytest.raises(ValueError):
            partition(ei, k, method=method)


def test_metis_real():
    pytest.importorskip("pymetis")
    ei = two_cliques()
    parts = partition(ei, 2, method="metis")
    assert parts.dtype == np.int64 and parts.shape == (24,)
    assert cut(ei, parts) == 1


# --- KaMinPar -----------------------------------------------------------------------------------

def test_kaminpar_adapter(fake_kaminpar):
    ei = two_cliques()
    w = np.arange(24, dtype=np.int64)
    parts = partition(ei, 3, node_weight=w, imbalance=0.1, seed=5, num_threads=2, method="kaminpar")
    assert parts.dtype == np.int64 and list(parts) == [i % 3 for i in range(24)]
    (call,) = fake_kaminpar.calls
    assert call["threads"] == 2 and call["k"] == 3 and call["eps"] == pytest.approx(0.1) and call["seed"] == 5
    g = call["graph"]
    assert g["n"] == 24 and g["m"] == 2 * (2 * 66 + 1)
    assert list(g["weights"]) == list(range(24))
    ref = CSRGraph.from_edge_index(ei, 24, symmetrize=True, drop_duplicates=True)
    indptr, indices = ref.csr()
    assert np.array_equal(g["xadj"], indptr) and np.array_equal(g["adj"], indices)
    partition(ei, 3, method="kaminpar")
    assert fake_kaminpar.calls[-1]["graph"]["weights"] is None


def test_kaminpar_real():
    pytest.importorskip("kaminpar")
    ei = two_cliques()
    parts = partition(ei, 2, method="kaminpar", num_threads=1)
    assert parts.dtype == np.int64 and parts.shape == (24,)
    assert cut(ei, parts) == 1


# --- unavailable packages -----------------------------------------------------------------------

@pytest.mark.parametrize("method,package", [("metis", "pymetis"), ("kaminpar", "kaminpar")])
def test_unavailable(monkeypatch, method, package):
    monkeypatch.setitem(sys.modules, package, None)  # import raises ImportError
    with pytest.raises(ibmb.UnavailableError, match=f"pip install {package}"):
        partition(two_cliques(), 2, method=method)


def test_loader_partition_method(fake_metis):
    torch = pytest.importorskip("torch")
    from torch_geometric.data import Data

    ei = two_cliques()
    data = Data(x=torch.ones(24, 3), edge_index=torch.from_numpy(ei), y=torch.zeros(24, dtype=torch.long),
                num_nodes=24)
    loader = ibmb.IBMBBatchLoader(data, batch_order=None, num_partitions=2, partition_method="metis",
                                  progress=False)
    assert list(loader.partitions) == [0] * 12 + [1] * 12
    assert len(fake_metis.calls) == 1
    with pytest.raises(ValueError, match="method must be one of"):
        ibmb.IBMBBatchLoader(data, batch_order=None, num_partitions=2, partition_method="nope", progress=False)
