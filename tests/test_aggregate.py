"""Cached aggregated features (issue 14, item 4): ibmb.features.aggregate
equals the dense normalised adjacency product, and a first GCN layer fed
Â·X equals PyG's full-graph GCNConv on Cora."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ibmb.features import aggregate
from ibmb.graph import CSRGraph


def ring_graph(n: int) -> CSRGraph:
    src = np.arange(n, dtype=np.int64)
    ei = np.stack([src, (src + 1) % n])
    return CSRGraph.from_edge_index(ei, n, symmetrize=True, add_self_loops=True)


def dense(g: CSRGraph, norm: str) -> np.ndarray:
    a = np.zeros((g.num_nodes, g.num_nodes))
    ei, w = g.edge_index(), g.edge_weight(norm)
    np.add.at(a, (ei[0], ei[1]), w.astype(np.float64))
    return a


@pytest.mark.parametrize("norm", ["sym", "rw", "none"])
@pytest.mark.parametrize("hops", [1, 3])
def test_matches_dense_product(norm, hops):
    rng = np.random.default_rng(0)
    n = 200
    ei = rng.integers(0, n, (2, 900))
    g = CSRGraph.from_edge_index(ei, n, symmetrize=True, add_self_loops=True)
    x = rng.standard_normal((n, 9)).astype(np.float32)
    a = dense(g, norm)
    want = x.astype(np.float64)
    for _ in range(hops):
        want = a @ want
    got = aggregate(g, x, norm=norm, hops=hops)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4 * (1 + np.abs(want).max()))
    t = aggregate(g, torch.from_numpy(x), norm=norm, hops=hops, num_threads=1)
    assert isinstance(t, torch.Tensor) and np.array_equal(t.numpy(), got)  # thread count changes nothing


def test_first_gcn_layer_on_aggregated_features_equals_full_graph_gcnconv(cora):
    from torch_geometric.nn import GCNConv

    torch.manual_seed(0)
    n = cora.num_nodes
    g = CSRGraph.from_edge_index(cora.edge_index, n, symmetrize=True, add_self_loops=True, drop_duplicates=True)
    assert g.num_edges == cora.num_edges + n  # the same propagation matrix as gcn_norm's
    ax = aggregate(g, cora.x)
    conv = GCNConv(cora.num_features, 64)
    with torch.no_grad():
        full = conv(cora.x, cora.edge_index)  # PyG: gcn_norm with self-loops, full graph
        cached = ax @ conv.lin.weight.t() + conv.bias  # the same layer on Â·X
    diff = float((full - cached).abs().max())
    assert diff < 1e-4, diff
    assert float(full.abs().max()) > 1e-2  # not a trivially zero comparison


def test_bad_input():
    g = ring_graph(5)
    with pytest.raises(TypeError, match="float32"):
        aggregate(g, torch.zeros(5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"shape \[5, F\]"):
        aggregate(g, np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="hops must be >= 1"):
        aggregate(g, np.zeros((5, 2), np.float32), hops=0)
    with pytest.raises(ValueError, match="unknown normalization"):
        aggregate(g, np.zeros((5, 2), np.float32), norm="left")
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        aggregate(g, [[0.0]] * 5)
    # A strided view is copied, not misread.
    x = np.arange(20, dtype=np.float32).reshape(5, 4)[:, ::2]
    np.testing.assert_allclose(aggregate(g, x, norm="none"), dense(g, "none") @ x, rtol=1e-6)
