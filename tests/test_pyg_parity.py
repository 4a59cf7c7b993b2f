"""PyG parity: what PyG 2.8's own tests check of its IBMB loaders
(test/loader/test_ibmb_loader.py) and of get_ppr (test/utils/test_ppr.py),
asked of ibmb, plus the edge values and node-wise batch counts PyG gives.

Written for ibmb (not copied): the same behaviours on the same graph
(Zachary's karate club, 34 nodes), with seeded inputs instead of PyG's
unseeded ``torch.randperm``. Where PyG itself can run here (its node-wise
merge needs numba), its results are the reference; ``str(loader)`` is
ibmb's own and not compared.
"""
from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import ibmb
from ibmb import IBMBBatchLoader, IBMBNodeLoader

torch_geometric = pytest.importorskip("torch_geometric")
from torch_geometric.datasets import KarateClub  # noqa: E402

HAS_TORCH_SPARSE = importlib.util.find_spec("torch_sparse") is not None
EDGE_TYPES = ["edge_index"] + (["adj"] if HAS_TORCH_SPARSE else [])


@pytest.fixture(scope="module")
def karate():
    return KarateClub()[0]


def _inputs(seed: int, n: int = 34, m: int = 20) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:m]


def _check_edge_type(loader, kind: str) -> None:
    for batch in loader:
        if kind == "adj":
            from torch_sparse import SparseTensor

            assert isinstance(batch.edge_index, SparseTensor)
        else:
            assert isinstance(batch.edge_index, torch.Tensor) and batch.edge_index.dim() == 2


@pytest.mark.parametrize("kind", EDGE_TYPES)
@pytest.mark.parametrize("num_partitions,batch_size", [(4, 1), (8, 2)])
@pytest.mark.parametrize("seed", range(3))
def test_batch_loader_like_pyg(karate, kind, num_partitions, batch_size, seed):
    loader = IBMBBatchLoader(karate, batch_order="order", num_partitions=num_partitions, input_nodes=_inputs(seed),
                             return_edge_index_type=kind, batch_size=batch_size)
    assert isinstance(loader, DataLoader) and loader.dataset is loader.arena
    assert len(loader.dataset) == loader.num_batches
    # One batch per part holding outputs: with 20 of 34 nodes as outputs every
    # part of 4 (and all but at most one of 8) holds some, so 4 steps either way.
    assert len(loader) == 4
    assert sum(int(b.output_node_mask.sum()) for b in loader) == 20
    _check_edge_type(loader, kind)


@pytest.mark.parametrize("kind", EDGE_TYPES)
@pytest.mark.parametrize("num_nodes_per_batch,batch_size", [(4, 1), (2, 2)])
def test_node_loader_like_pyg(karate, kind, num_nodes_per_batch, batch_size):
    # PyG's test expects 5 steps; its merge (and ibmb's, which follows it)
    # reaches 5 full batches for most input sets, not all (see the batch
    # count comparison below), so this seed is one where it does.
    loader = IBMBNodeLoader(karate, batch_order="order", input_nodes=_inputs(1), num_auxiliary_nodes=4,
                            num_nodes_per_batch=num_nodes_per_batch, return_edge_index_type=kind,
                            batch_size=batch_size)
    assert isinstance(loader, DataLoader) and len(loader.dataset) == loader.num_batches
    assert len(loader) == 5
    assert sum(int(b.output_node_mask.sum()) for b in loader) == 20
    _check_edge_type(loader, kind)


@pytest.mark.parametrize("target", [None, [0, 4, 5, 6]])
def test_get_ppr_like_pyg(karate, target):
    tgt = None if target is None else torch.tensor(target)
    edge_index, weight = ibmb.get_ppr(karate.edge_index, alpha=0.1, eps=1e-5, target=tgt)
    assert edge_index.dim() == 2 and edge_index.size(0) == 2 and edge_index.size(1) == weight.numel()
    lo = 0 if tgt is None else int(tgt.min())
    hi = karate.num_nodes - 1 if tgt is None else int(tgt.max())
    assert int(edge_index[0].min()) == lo and int(edge_index[0].max()) == hi
    assert int(edge_index[1].min()) >= 0 and int(edge_index[1].max()) < karate.num_nodes
    assert float(weight.min()) >= 0.0 and float(weight.max()) <= 1.0


def _pyg_rw_adj(data):
    """PyG's own full-graph rw adjacency (what its loaders slice per batch)."""
    from torch_geometric.loader.ibmb_loader import IBMBBaseLoader

    return IBMBBaseLoader.create_adj_from_edge_index(data.edge_index, data.num_nodes, normalization="rw")


@pytest.mark.skipif(not HAS_TORCH_SPARSE, reason="torch_sparse (PyG's SparseTensor) is not installed")
@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("cls", ["node", "batch"])
def test_adj_values_are_pygs(karate, cls, batch_size):
    if cls == "node":
        loader = IBMBNodeLoader(karate, "rand", _inputs(0), 4, 4, return_edge_index_type="adj", batch_size=batch_size)
    else:
        loader = IBMBBatchLoader(karate, "rand", 4, _inputs(0), return_edge_index_type="adj", batch_size=batch_size)
    adj = _pyg_rw_adj(karate)
    for batch in loader:
        n_id = batch.n_id
        want = adj[n_id][:, n_id].to_dense()
        got = batch.edge_index.to_dense()
        torch.testing.assert_close(got, want, rtol=1e-6, atol=0)
        assert float(got.sum(1).max()) <= 1 + 1e-6  # rows of D^-1 A restricted: sums <= 1
        # edge_weight carries the same values with return_edge_index_type="edge_index"
        row, col, value = batch.edge_index.coo()
        torch.testing.assert_close(value, batch.edge_weight)


def test_in_batch_sym_is_an_option(karate):
    loader = IBMBNodeLoader(karate, None, _inputs(0), 4, 4, norm="sym", batch_size=1)
    assert loader.norm == "sym"
    for b in loader:
        src, dst = b.edge_index
        deg = torch.bincount(src, minlength=b.num_nodes).double()
        torch.testing.assert_close(b.edge_weight.double(), 1 / torch.sqrt(deg[src] * deg[dst]), rtol=1e-6, atol=0)


def _pyg_node_batch_count(data, inputs) -> int:
    """Number of batches of PyG's own IBMBNodeLoader for ``inputs``."""
    from torch_geometric.loader.ibmb_loader import IBMBNodeLoader as PyGNodeLoader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return len(PyGNodeLoader(data, "rand", inputs, 4, 4, batch_size=1))


def test_node_wise_batch_counts_match_pyg(karate):
    """The issue's case: 20 outputs, at most 4 per batch, 20 input sets.
    ibmb merges outputs by affinities over the whole eps-truncated PPR
    matrix, as PyG and the reference code do, so it needs as few batches as
    PyG does (5 is the least possible)."""
    ours = [IBMBNodeLoader(karate, "rand", _inputs(s), 4, 4, batch_size=1).num_batches for s in range(20)]
    assert all(c >= 5 for c in ours)
    pytest.importorskip("numba", reason="PyG's node-wise merge needs numba")
    theirs = [_pyg_node_batch_count(karate, _inputs(s)) for s in range(20)]
    same = sum(a == b for a, b in zip(ours, theirs))
    assert same >= 18, f"batch counts differ from PyG's on {20 - same} of 20 input sets: {ours} vs {theirs}"
    assert sum(c == 5 for c in ours) >= sum(c == 5 for c in theirs) - 1, (ours, theirs)
