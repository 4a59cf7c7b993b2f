"""IBMB batches, partitioner and the batch arena from Python."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ibmb
from ibmb.arena import Arena
from ibmb.batching import batch_wise, node_wise, partition
from ibmb.graph import CSRGraph


def check_batches(b, outputs, cap=None):
    outs = np.concatenate([b.batch(i)[0] for i in range(len(b))])
    assert np.array_equal(np.sort(outs), np.unique(outputs)), "every output node in exactly one batch"
    for i in range(len(b)):
        out, nodes = b.batch(i)
        assert np.all(np.diff(nodes) > 0) and np.isin(out, nodes).all()
        if cap is not None:
            assert len(out) <= cap


@pytest.fixture(scope="module")
def cora_graph(cora):
    return CSRGraph.from_edge_index(cora.edge_index.numpy(), cora.num_nodes)


def test_node_wise_cora(cora, cora_graph):
    train = np.flatnonzero(cora.train_mask.numpy())
    b = node_wise(cora_graph, train, num_auxiliary_nodes=16, num_nodes_per_batch=32, alpha=0.25, eps=1e-4)
    check_batches(b, train, cap=32)
    # Auxiliary nodes: each output's top-16 PPR nodes are in its batch.
    res = ibmb.ppr.node_ppr(cora_graph, train, alpha=0.25, eps=1e-4, topk=16)
    where = {int(v): i for i in range(len(b)) for v in b.batch(i)[0]}
    for k, t in enumerate(train):
        assert np.isin(res.row(k)[0], b.batch(where[int(t)])[1]).all()


def test_unsorted_duplicate_outputs_same_batches(cora_graph, rng):
    outputs = rng.choice(cora_graph.num_nodes, size=300, replace=False)
    a = node_wise(cora_graph, np.sort(outputs), 8, 50, alpha=0.25, eps=1e-4)
    shuffled = np.concatenate([rng.permutation(outputs), outputs[:40]])
    c = node_wise(cora_graph, shuffled, 8, 50, alpha=0.25, eps=1e-4)
    for x, y in zip((a.out_ptr, a.out, a.node_ptr, a.nodes), (c.out_ptr, c.out, c.node_ptr, c.nodes)):
        assert np.array_equal(x, y)


def test_batch_wise_and_partition(cora, cora_graph):
    parts = partition(cora_graph, 8)
    sizes = np.bincount(parts, minlength=8)
    assert sizes.max() <= 1.03 * cora.num_nodes / 8 + 1
    rand_cut = _cut(cora.edge_index.numpy(), np.random.default_rng(0).permutation(parts))
    assert _cut(cora.edge_index.numpy(), parts) < 0.5 * rand_cut
    train = np.flatnonzero(cora.train_mask.numpy())
    b = batch_wise(cora_graph, train, parts, 8, batch_expand_ratio=1.0, alpha=0.25, eps=1e-4)
    check_batches(b, train)
    k = int(np.ceil(cora.num_nodes / 8))
    for i in range(len(b)):
        out, nodes = b.batch(i)
        assert len(nodes) <= len(out) + k


def _cut(ei, parts):
    return int((parts[ei[0]] != parts[ei[1]]).sum())


def test_parts_without_outputs_are_skipped(cora_graph):
    parts = np.arange(cora_graph.num_nodes) % 10
    b = batch_wise(cora_graph, np.array([0, 10, 20, 3]), parts, 10, batch_expand_ratio=0.1)
    assert len(b) == 2  # parts 0 and 3


def test_arena_matches_bruteforce(cora, cora_graph, tmp_path):
    train = np.flatnonzero(cora.train_mask.numpy())
    b = node_wise(cora_graph, train, 16, 32, alpha=0.25, eps=1e-4)
    arena = Arena.build(cora_graph, b, x=cora.x, y=cora.y, norm="sym", params={"k": 16})
    assert len(arena) == len(b) and arena.params == {"k": 16}
    ei = cora.edge_index.numpy()
    for i in range(len(b)):
        out, nodes = b.batch(i)
        nodes = np.concatenate([out, np.setdiff1d(nodes, out)])  # the arena lists outputs first
        v = arena[i]
        assert np.array_equal(v.n_id, nodes) and np.array_equal(v.n_id[v.output_mask], out)
        assert v.output_mask[:len(out)].all() and not v.output_mask[len(out):].any()
        assert np.array_equal(v.y, cora.y.numpy()[nodes]) and np.array_equal(v.x, cora.x.numpy()[nodes])
        # Induced edges, brute force.
        pos = -np.ones(cora.num_nodes, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        keep = (pos[ei[0]] >= 0) & (pos[ei[1]] >= 0)
        want = sorted(zip(pos[ei[0]][keep].tolist(), pos[ei[1]][keep].tolist()))
        assert sorted(map(tuple, v.edge_index.T.tolist())) == want
        deg = np.bincount(v.edge_index[0], minlength=len(nodes)).astype(np.float64)
        w = 1 / np.sqrt(deg[v.edge_index[0]] * deg[v.edge_index[1]])
        np.testing.assert_allclose(v.edge_weight, w, rtol=1e-6)
    # Zero-copy torch views.
    t = torch.from_numpy(arena[0].edge_index)
    assert t.shape[0] == 2 and t.dtype == torch.int64
    path = tmp_path / "cora.ibmb"
    arena.save(path)
    loaded = Arena.load(path)
    for i in range(len(b)):
        for name in ("n_id", "output_mask", "edge_index", "edge_weight", "y", "x"):
            assert np.array_equal(getattr(loaded[i], name), getattr(arena[i], name))


def test_arena_views_keep_memory_alive(cora_graph):
    b = node_wise(cora_graph, np.arange(100), 4, 20)
    view = Arena.build(cora_graph, b)[0].n_id  # the Arena object itself is dropped here
    import gc

    gc.collect()
    out, nodes = b.batch(0)
    assert np.array_equal(view, np.concatenate([out, np.setdiff1d(nodes, out)]))


def test_arena_file_errors(cora_graph, tmp_path):
    b = node_wise(cora_graph, np.arange(50), 4, 20)
    path = tmp_path / "a.ibmb"
    Arena.build(cora_graph, b).save(path)
    data = path.read_bytes()
    with pytest.raises(OSError):
        Arena.load(tmp_path / "missing.ibmb")
    for name, bad in [("truncated", data[: len(data) // 2]), ("empty", b""),
                      ("flipped", data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]),
                      ("magic", b"XXXXXXXX" + data[8:])]:
        p = tmp_path / name
        p.write_bytes(bad)
        with pytest.raises(OSError, match="invalid arena file"):
            Arena.load(p)


def test_bad_input(cora_graph):
    with pytest.raises(ValueError, match="empty"):
        node_wise(cora_graph, np.array([], dtype=np.int64), 4, 10)
    with pytest.raises(IndexError):
        node_wise(cora_graph, np.array([0, 10**6]), 4, 10)
    with pytest.raises(ValueError):
        node_wise(cora_graph, np.array([0, 1]), 0, 10)
    with pytest.raises(ValueError):
        node_wise(cora_graph, np.array([0, 1]), 4, 0)
    with pytest.raises(TypeError):
        node_wise(cora_graph, np.array([0.5]), 4, 10)
    with pytest.raises(ValueError, match="shape"):
        batch_wise(cora_graph, np.array([0]), np.zeros(5, dtype=np.int64), 2)
    with pytest.raises(IndexError):
        batch_wise(cora_graph, np.array([0]), np.full(cora_graph.num_nodes, 7), 2)
    with pytest.raises(ValueError):
        partition(cora_graph, 0)
    b = node_wise(cora_graph, np.arange(10), 4, 5)
    with pytest.raises(TypeError):
        Arena.build(cora_graph, b, x=np.zeros((cora_graph.num_nodes, 3), dtype=np.int32))
    with pytest.raises(ValueError):
        Arena.build(cora_graph, b, y=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        Arena.build(cora_graph, b, norm="bogus")


@pytest.mark.parametrize("mode", ["order", "sample", "rand"])
def test_batch_order(cora, cora_graph, mode, rng):
    from ibmb.order import BatchOrder

    b = node_wise(cora_graph, np.arange(cora_graph.num_nodes), 8, 64, alpha=0.25, eps=1e-4)
    order = BatchOrder(b, cora.y, mode=mode, seed=3)
    d = order.distances
    assert d.shape == (len(b), len(b)) and np.allclose(d, d.T) and (np.diag(d) == 0).all() and (d >= 0).all()
    e1, e2 = order.epoch(), order.epoch()
    for e in (e1, e2):
        assert np.array_equal(np.sort(e), np.arange(len(b)))
    if mode == "order":
        assert np.array_equal(e1, e2)
        # Maximized, unlike PyG's port: far above random orders.
        rand = [order.path_distance(rng.permutation(len(b))) for _ in range(50)]
        assert order.path_distance(e1) > max(rand)
    # Hand check of one distance: symmetric KL of add-one-smoothed label counts.
    k = int(cora.y.max()) + 1
    q = [np.bincount(cora.y.numpy()[b.batch(i)[0]], minlength=k) + 1.0 for i in (0, 1)]
    q = [c / c.sum() for c in q]
    want = float(np.sum(q[0] * np.log(q[0] / q[1])) + np.sum(q[1] * np.log(q[1] / q[0])))
    assert d[0, 1] == pytest.approx(want, rel=1e-9)


def test_batch_order_bad_input(cora_graph):
    from ibmb.order import BatchOrder

    b = node_wise(cora_graph, np.arange(20), 4, 5)
    with pytest.raises(ValueError):
        BatchOrder(b, np.zeros(cora_graph.num_nodes, dtype=np.int64), mode="tsp")
    with pytest.raises(TypeError):
        BatchOrder(b, np.zeros(cora_graph.num_nodes))
    with pytest.raises(ValueError):
        BatchOrder(b, np.full(cora_graph.num_nodes, 9), num_classes=3)
