"""ibmb.graph against straightforward numpy references."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ibmb
from ibmb.graph import CSRGraph


def _dense(edge_index, n):
    a = np.zeros((n, n))
    np.add.at(a, (edge_index[0], edge_index[1]), 1.0)
    return a


def _random_edges(rng, n, e):
    return rng.integers(0, n, size=(2, e))


def test_csr_matches_dense(rng):
    n, e = 200, 1500
    ei = _random_edges(rng, n, e)
    g = CSRGraph.from_edge_index(ei, n)
    assert (g.num_nodes, g.num_edges) == (n, e)
    indptr, indices = g.csr()
    a = _dense(ei, n)
    b = np.zeros((n, n))
    for u in range(n):
        row = indices[indptr[u]:indptr[u + 1]]
        assert np.all(np.diff(row) >= 0), "rows must be sorted"
        np.add.at(b[u], row, 1.0)
    assert np.array_equal(a, b)
    assert np.array_equal(g.degree(), a.sum(1).astype(np.int64))


def test_options(rng):
    n = 60
    ei = _random_edges(rng, n, 400)
    g = CSRGraph.from_edge_index(ei, n, symmetrize=True, drop_duplicates=True, add_self_loops=True)
    a = _dense(ei, n)
    want = ((a + a.T) > 0).astype(float)
    np.fill_diagonal(want, 1.0)
    assert np.array_equal(_dense(g.edge_index(), n), want)


@pytest.mark.parametrize("norm", ["sym", "rw", "none"])
def test_normalization_matches_dense(rng, norm):
    n = 80
    ei = _random_edges(rng, n, 500)
    ei2, w = ibmb.graph.normalize(ei, n, norm, symmetrize=True, drop_duplicates=True, add_self_loops=True)
    a = _dense(ei2, n)
    d = a.sum(1)
    if norm == "sym":
        ref = a / np.sqrt(np.outer(d, d))
    elif norm == "rw":
        ref = a / d[:, None]
    else:
        ref = a
    got = np.zeros((n, n))
    got[ei2[0], ei2[1]] = w
    assert w.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


def test_isolated_nodes_no_nan():
    g = CSRGraph.from_edge_index(np.array([[0], [1]]), num_nodes=5)
    assert g.degree().tolist() == [1, 0, 0, 0, 0]
    for norm in ("sym", "rw"):
        assert np.isfinite(g.edge_weight(norm)).all()
    empty = CSRGraph.from_edge_index(np.zeros((2, 0), dtype=np.int64), num_nodes=3)
    assert empty.num_edges == 0 and empty.degree().tolist() == [0, 0, 0]


def test_induced_matches_bruteforce(rng):
    n = 150
    ei = _random_edges(rng, n, 1200)
    nodes = rng.permutation(n)[:40]  # unsorted on purpose
    sub_ei, w = ibmb.graph.subgraph(nodes, ei, n, norm="rw")
    pos = {int(v): i for i, v in enumerate(nodes)}
    keep = [(pos[int(u)], pos[int(v)]) for u, v in ei.T if int(u) in pos and int(v) in pos]
    assert sorted(keep) == sorted(map(tuple, sub_ei.T.tolist()))
    assert w.shape == (sub_ei.shape[1],)


def test_torch_in_torch_out():
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    g = CSRGraph.from_edge_index(ei)
    assert isinstance(g.edge_index(), torch.Tensor) and isinstance(g.edge_weight("sym"), torch.Tensor)
    assert ibmb.graph.degree(ei).tolist() == [1, 1, 1]


def test_errors():
    with pytest.raises(IndexError, match="num_nodes"):
        CSRGraph.from_edge_index(np.array([[0, 5], [1, 2]]), num_nodes=5)
    with pytest.raises(IndexError):
        CSRGraph.from_edge_index(np.array([[0, -1], [1, 2]]))
    with pytest.raises(ValueError, match="shape"):
        CSRGraph.from_edge_index(np.array([[0, 1, 2]]))
    with pytest.raises(TypeError):
        CSRGraph.from_edge_index(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError):
        CSRGraph.from_edge_index(np.array([[0], [1]]), num_nodes=-3)
    with pytest.raises(ValueError, match="int32"):
        CSRGraph.from_edge_index(np.array([[0], [1]]), num_nodes=3_000_000_000)
    g = CSRGraph.from_edge_index(np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError):
        g.edge_weight("bogus")
    with pytest.raises(IndexError):
        g.induced(np.array([0, 7]))
    with pytest.raises(ValueError):
        g.induced(np.array([0, 0]))
    g.close()
    with pytest.raises(ValueError, match="closed"):
        g.degree()


def test_no_handle_leak():
    from ibmb._native import engine

    before = engine.NumHandles()
    for _ in range(20):
        g = CSRGraph.from_edge_index(np.array([[0, 1], [1, 2]]))
        g.induced(np.array([1, 2])).degree()
        del g
    import gc

    gc.collect()
    assert engine.NumHandles() == before


def test_datasets_csbm():
    d = ibmb.datasets.csbm(num_nodes=1000, num_classes=4, avg_degree=5, num_features=8, seed=3)
    assert d.edge_index.shape == (2, 5000) and d.x.shape == (1000, 8) and d.y.shape == (1000,)
    assert d.y.max() == 3 and d.edge_index.max() < 1000
    d2 = ibmb.datasets.csbm(num_nodes=1000, num_classes=4, avg_degree=5, num_features=8, seed=3)
    assert np.array_equal(d.edge_index, d2.edge_index) and np.array_equal(d.x, d2.x)
    with pytest.raises(ValueError, match="homophily"):
        ibmb.datasets.csbm(num_nodes=10, homophily=2.0)
    r = ibmb.datasets.rmat(10, edge_factor=4)
    assert r.num_nodes == 1024 and r.edge_index.shape == (2, 4096)
