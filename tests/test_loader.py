"""ibmb.IBMBNodeLoader / IBMBBatchLoader: PyG drop-in behaviour, batch
invariants against brute force, save/load, and clear errors for bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ibmb
from ibmb import IBMBBatchLoader, IBMBNodeLoader


def _check_batches(loader, data, inputs, norm="graph-rw", self_loops=False):
    """Every input node is an output of exactly one batch; each batch is the
    induced subgraph of its nodes with the right weights, outputs first.
    ``graph-rw`` (the default, PyG's): 1 / full-graph degree of the source."""
    x, y = data.x.numpy(), data.y.numpy()
    ei = data.edge_index.numpy()
    if self_loops:
        loops = np.arange(data.num_nodes)
        ei = np.concatenate([ei, np.stack([loops, loops])], axis=1)
    ei = np.unique(ei, axis=1)
    full_deg = np.bincount(ei[0], minlength=data.num_nodes).astype(np.float64)
    seen = []
    for b in loader:
        n_id = b.n_id.numpy()
        k = int(b.batch_size)
        assert b.output_node_mask[:k].all() and not b.output_node_mask[k:].any()
        assert np.all(np.diff(n_id[:k]) > 0) and np.all(np.diff(n_id[k:]) > 0)
        assert len(np.unique(n_id)) == len(n_id)
        seen.append(n_id[:k])
        assert np.array_equal(b.x.numpy(), x[n_id]) and np.array_equal(b.y.numpy(), y[n_id])
        pos = -np.ones(data.num_nodes, np.int64)
        pos[n_id] = np.arange(len(n_id))
        keep = (pos[ei[0]] >= 0) & (pos[ei[1]] >= 0)
        want = sorted(zip(pos[ei[0]][keep].tolist(), pos[ei[1]][keep].tolist()))
        assert sorted(map(tuple, b.edge_index.t().tolist())) == want
        deg = np.bincount(b.edge_index[0].numpy(), minlength=len(n_id)).astype(np.float64)
        src, dst = b.edge_index.numpy()
        if norm == "graph-rw":
            w = 1 / full_deg[n_id[src]]
            assert np.all(np.bincount(src, weights=w, minlength=len(n_id)) <= 1 + 1e-6)  # row sums <= 1
        else:
            w = 1 / np.sqrt(deg[src] * deg[dst]) if norm == "sym" else 1 / deg[src]
        np.testing.assert_allclose(b.edge_weight.numpy(), w, rtol=1e-6)
    seen = np.concatenate(seen)
    assert np.array_equal(np.sort(seen), np.unique(inputs))


@pytest.mark.parametrize("order", ["order", "sample", "rand", None])
def test_node_loader_cora(cora, order):
    train = cora.train_mask.nonzero().view(-1)
    loader = IBMBNodeLoader(cora, order, train, 16, 32, batch_size=1)
    assert len(loader) == loader.num_batches >= 5
    _check_batches(loader, cora, train.numpy())
    b = next(iter(loader))
    assert b.edge_index.dtype == torch.int64 and b.edge_weight.dtype == torch.float32
    assert b.output_node_mask.dtype == torch.bool and b.n_id.dtype == torch.int64 and b.num_nodes == len(b.n_id)


def test_batch_loader_cora_rw_self_loops(cora):
    val = cora.val_mask.nonzero().view(-1)
    loader = IBMBBatchLoader(cora, "order", 6, val, 0.5, norm="rw", add_self_loops=True, batch_size=1)
    assert 1 <= loader.num_batches <= 6 and len(loader.partitions) == cora.num_nodes
    _check_batches(loader, cora, val.numpy(), norm="rw", self_loops=True)


def test_batch_loader_reuses_given_partitions(cora):
    train, test = cora.train_mask, cora.test_mask
    a = IBMBBatchLoader(cora, None, 6, test, 1.0, batch_size=1, seed=3)
    b = IBMBBatchLoader(cora, "order", 6, train, 1.0, batch_size=1, seed=3)
    # The train loader's partition is the test loader's (same graph, part count, seed) ...
    assert np.array_equal(a.partitions, b.partitions)
    # ... so passing it on gives the same test batches without partitioning again.
    c = IBMBBatchLoader(cora, None, 6, test, 1.0, batch_size=1, partitions=torch.from_numpy(b.partitions))
    assert [x.n_id.tolist() for x in a] == [x.n_id.tolist() for x in c]
    _check_batches(c, cora, test.nonzero().view(-1).numpy())
    # A different partition gives other batches, still valid ones.
    d = IBMBBatchLoader(cora, None, 6, test, 1.0, batch_size=1, partitions=np.arange(cora.num_nodes) % 6)
    _check_batches(d, cora, test.nonzero().view(-1).numpy())
    for bad, err in (([0, 1], ValueError), (np.full(cora.num_nodes, 6), ValueError),
                     (np.full(cora.num_nodes, -1), ValueError), (np.zeros(cora.num_nodes), TypeError)):
        with pytest.raises(err, match="partitions"):
            IBMBBatchLoader(cora, None, 6, test, 1.0, partitions=bad)


def test_mask_index_unsorted_duplicates_agree(cora):
    mask = cora.test_mask
    idx = mask.nonzero().view(-1)
    shuffled = torch.cat([idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(1))], idx[:50]])
    runs = [IBMBNodeLoader(cora, None, inp, 8, 64, batch_size=1) for inp in (mask, idx, shuffled, idx.numpy())]
    ref = [b.n_id for b in runs[0]]
    for r in runs[1:]:
        assert all(torch.equal(a, b.n_id) for a, b in zip(ref, r))


def test_merged_batches(cora):
    train = cora.train_mask.nonzero().view(-1)
    one = IBMBNodeLoader(cora, None, train, 16, 16, batch_size=1)
    two = IBMBNodeLoader(cora, None, train, 16, 16, batch_size=3, drop_last=False)
    assert len(two) == -(-one.num_batches // 3)
    _check_batches(two, cora, train.numpy())
    assert len(IBMBNodeLoader(cora, None, train, 16, 16, batch_size=3, drop_last=True)) == one.num_batches // 3


def test_order_fixed_sample_varies(cora):
    train = cora.train_mask.nonzero().view(-1)
    fixed = IBMBNodeLoader(cora, "order", train, 8, 8, batch_size=1)
    a = [b.n_id[0].item() for b in fixed]
    assert a == [b.n_id[0].item() for b in fixed]
    rand = IBMBNodeLoader(cora, "rand", train, 8, 8, batch_size=1, seed=3)
    epochs = {tuple(b.n_id[0].item() for b in rand) for _ in range(4)}
    assert len(epochs) > 1


def test_save_load(cora, tmp_path):
    train = cora.train_mask.nonzero().view(-1)
    loader = IBMBNodeLoader(cora, None, train, 16, 32, batch_size=1)
    path = tmp_path / "train.ibmb"
    loader.save(path)
    back = IBMBNodeLoader.load(path, batch_order=None)  # features are in the file: no data needed
    for a, b in zip(loader, back):
        for key in ("x", "y", "edge_index", "edge_weight", "output_node_mask", "n_id"):
            assert torch.equal(a[key], b[key])
        assert a.batch_size == b.batch_size
    # Ordered after loading, from the labels stored in the file.
    assert len(list(IBMBNodeLoader.load(path, batch_order="order"))) == loader.num_batches
    # Gathered features: the file holds ids only, so data is required.
    lean = IBMBNodeLoader(cora, None, train, 16, 32, batch_size=1, store_features=False)
    assert not lean.stats()["features_in_arena"] and lean.stats()["arena_bytes"] < loader.stats()["arena_bytes"]
    lean.save(tmp_path / "lean.ibmb")
    with pytest.raises(ValueError, match="no features"):
        IBMBNodeLoader.load(tmp_path / "lean.ibmb")
    for a, b in zip(loader, IBMBNodeLoader.load(tmp_path / "lean.ibmb", cora, batch_order=None)):
        assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    (tmp_path / "bad.ibmb").write_bytes(path.read_bytes()[:5000])
    with pytest.raises(OSError):
        IBMBNodeLoader.load(tmp_path / "bad.ibmb")


def test_num_workers_warns_and_works(cora):
    import ibmb.loader.base as L

    L._warned_workers = False
    with pytest.warns(UserWarning, match="main process"):
        loader = IBMBNodeLoader(cora, "rand", cora.train_mask, 8, 64, batch_size=1, num_workers=4,
                                persistent_workers=True, pin_memory=True)
    assert len(list(loader)) == loader.num_batches


def test_prefetch_thread_gives_same_batches(cora):
    train = cora.train_mask.nonzero().view(-1)
    lean = IBMBNodeLoader(cora, None, train, 16, 32, batch_size=1, store_features=False, prefetch=3)
    full = IBMBNodeLoader(cora, None, train, 16, 32, batch_size=1)
    for a, b in zip(lean, full):
        assert torch.equal(a.x, b.x)
    it = iter(lean)  # abandoning an epoch midway stops the thread
    next(it)
    del it


def test_adj_type(cora):
    pytest.importorskip("torch_sparse", reason="return_edge_index_type='adj' needs torch_sparse")
    loader = IBMBNodeLoader(cora, None, cora.train_mask, 8, 64, return_edge_index_type="adj", batch_size=1)
    b = next(iter(loader))
    row, col, val = b.edge_index.coo()
    assert torch.equal(torch.stack([row, col]), IBMBNodeLoader(cora, None, cora.train_mask, 8, 64,
                                                                batch_size=1).__iter__().__next__().edge_index)


def test_bad_input(cora):
    from torch_geometric.data import Data

    train = cora.train_mask.nonzero().view(-1)
    with pytest.raises(ValueError, match="no node features"):
        IBMBNodeLoader(Data(edge_index=cora.edge_index, y=cora.y, num_nodes=cora.num_nodes), "rand", train, 4, 8)
    with pytest.raises(ValueError, match="no edge_index"):
        IBMBNodeLoader(Data(x=cora.x, y=cora.y), "rand", train, 4, 8)
    with pytest.raises(IndexError):
        IBMBNodeLoader(cora, "rand", torch.tensor([0, cora.num_nodes]), 4, 8)
    with pytest.raises(IndexError):
        IBMBBatchLoader(cora, "rand", 4, torch.tensor([-1, 3]))
    with pytest.raises(ValueError, match="empty"):
        IBMBNodeLoader(cora, "rand", torch.tensor([], dtype=torch.long), 4, 8)
    with pytest.raises(ValueError, match="empty"):
        IBMBNodeLoader(cora, "rand", torch.zeros(cora.num_nodes, dtype=torch.bool), 4, 8)
    with pytest.raises(TypeError):
        IBMBNodeLoader(cora, "rand", train.float(), 4, 8)
    with pytest.raises(ValueError, match="mask"):
        IBMBNodeLoader(cora, "rand", torch.ones(5, dtype=torch.bool), 4, 8)
    no_y = Data(x=cora.x, edge_index=cora.edge_index)
    with pytest.raises(ValueError, match="no y"):
        IBMBNodeLoader(no_y, "order", train, 4, 8)
    assert len(list(IBMBNodeLoader(no_y, None, train, 4, 64))) >= 1  # inference needs no labels
    with pytest.raises(ValueError, match="batch_order"):
        IBMBNodeLoader(cora, "best", train, 4, 8)
    with pytest.raises(ValueError, match="shuffle"):
        IBMBNodeLoader(cora, "order", train, 4, 8, shuffle=True)
    with pytest.raises(ValueError, match="sampler"):
        IBMBNodeLoader(cora, "rand", train, 4, 8, sampler=[0, 1])
    with pytest.raises(TypeError, match="unexpected"):
        IBMBNodeLoader(cora, "rand", train, 4, 8, colour="blue")
    with pytest.raises(ValueError, match="batch_size"):
        IBMBNodeLoader(cora, "rand", train, 4, 8, batch_size=0)
    with pytest.raises(ValueError, match="num_partitions"):
        IBMBBatchLoader(cora, "rand", 0, train)
    with pytest.raises(ValueError, match="batch_expand_ratio"):
        IBMBBatchLoader(cora, "rand", 4, train, float("nan"))
    with pytest.raises(ValueError):
        IBMBNodeLoader(cora, "rand", train, 4, 8, alpha=float("nan"))
    with pytest.raises(ValueError):
        IBMBNodeLoader(cora, "rand", train, -1, 8)
    with pytest.raises(TypeError):
        IBMBNodeLoader(Data(x=cora.x, edge_index=cora.edge_index.float(), y=cora.y), "rand", train, 4, 8)
    with pytest.raises(ValueError, match="rows"):
        IBMBNodeLoader(Data(x=cora.x[:10], edge_index=cora.edge_index, y=cora.y, num_nodes=cora.num_nodes),
                       "rand", train, 4, 8)


def test_pyg_example_runs_with_only_the_import_changed(cora):
    """The usage from PyG's IBMB loader docs, with `from ibmb import ...`
    in place of `from torch_geometric.loader import ...`."""
    import torch.nn.functional as F
    from torch_geometric.nn import GCNConv

    from ibmb import IBMBBatchLoader, IBMBNodeLoader  # the only changed line

    data = cora
    train_idx = data.train_mask.nonzero().view(-1)

    class GCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = GCNConv(data.num_features, 16), GCNConv(16, 7)

        def forward(self, x, edge_index):
            return self.c2(F.relu(self.c1(x, edge_index)), edge_index)

    model = GCN()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loaders = [
        IBMBNodeLoader(data, batch_order="order", input_nodes=train_idx, num_auxiliary_nodes=8,
                       num_nodes_per_batch=32, alpha=0.2, eps=1e-4, return_edge_index_type="edge_index",
                       batch_size=1, shuffle=False),
        IBMBBatchLoader(data, batch_order="order", num_partitions=4, input_nodes=train_idx, batch_expand_ratio=1.0,
                        metis_input_node_weight=2.0, alpha=0.2, approximate_ppr_iterations=50,
                        return_edge_index_type="edge_index", batch_size=1, shuffle=False),
    ]
    for loader in loaders:
        for batch in loader:
            opt.zero_grad()
            out = model(batch.x, batch.edge_index)
            loss = F.cross_entropy(out[batch.output_node_mask], batch.y[batch.output_node_mask])
            loss.backward()
            opt.step()
            assert torch.isfinite(loss)


def test_stats_and_repr(cora):
    loader = IBMBNodeLoader(cora, "rand", cora.train_mask, 8, 32, batch_size=1)
    st = loader.stats()
    assert st["num_outputs"] == int(cora.train_mask.sum()) and st["arena_bytes"] == loader.arena.nbytes
    assert "IBMBNodeLoader(num_batches=" in repr(loader)


def test_y_column_and_float_labels(cora):
    from torch_geometric.data import Data

    d = Data(x=cora.x, edge_index=cora.edge_index, y=cora.y.view(-1, 1))
    b = next(iter(IBMBNodeLoader(d, "order", cora.train_mask, 8, 32, batch_size=1)))
    assert b.y.shape == (b.num_nodes, 1) and torch.equal(b.y.view(-1), cora.y[b.n_id])
    multi = torch.rand(cora.num_nodes, 3)
    d = Data(x=cora.x, edge_index=cora.edge_index, y=multi)
    with pytest.raises(ValueError, match="integer class labels"):
        IBMBNodeLoader(d, "order", cora.train_mask, 8, 32)
    b = next(iter(IBMBNodeLoader(d, "rand", cora.train_mask, 8, 32)))
    assert torch.equal(b.y, multi[b.n_id])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ibmb.IBMBNodeLoader(cora, "rand", cora.train_mask, 8, 32)
