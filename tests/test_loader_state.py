"""The sampler/loader split: samplers give the batches the loaders serve,
loaders are real DataLoaders, and a loader made from saved batches (``load``,
``arena=``) has the state of the one that saved them."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import ibmb
from ibmb import IBMBBatchLoader, IBMBNodeLoader
from ibmb.arena import Arena
from ibmb.sampler import IBMBBatchSampler, IBMBNodeSampler


def _same_batches(a, b):
    for name in ("out_ptr", "out", "node_ptr", "nodes"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_loaders_are_dataloaders_over_their_arena(cora):
    loader = IBMBNodeLoader(cora, "order", cora.train_mask, 8, 32, batch_size=2)
    assert isinstance(loader, DataLoader)
    assert loader.dataset is loader.arena and len(loader.dataset) == loader.num_batches
    assert sorted(loader.sampler) == list(range(loader.num_batches))
    assert len(loader) == len(loader.batch_sampler) == -(-loader.num_batches // 2)
    # DataLoader's own machinery (single process) gives the same batches.
    for ours, base in zip(loader, DataLoader.__iter__(loader)):
        assert torch.equal(ours.n_id, base.n_id) and torch.equal(ours.edge_index, base.edge_index)


def test_samplers_give_the_loaders_batches(cora):
    node = IBMBNodeSampler(cora, cora.train_mask, 8, 32)
    loader = IBMBNodeLoader(cora, None, cora.train_mask, 8, 32)
    _same_batches(node.batches, loader.batches)
    _same_batches(loader.batches, loader.arena.batches())  # the engine reads them back from the arena
    assert node.params["num_auxiliary_nodes"] == 8 and len(node) == loader.num_batches

    batch = IBMBBatchSampler(cora, 6, cora.train_mask, seed=2)
    bl = IBMBBatchLoader(cora, None, 6, cora.train_mask, seed=2)
    _same_batches(batch.batches, bl.arena.batches())
    assert np.array_equal(batch.partitions, bl.partitions)


@pytest.mark.parametrize("store", [True, False])
def test_loaded_batch_loader_has_its_partitions(cora, tmp_path, store):
    a = IBMBBatchLoader(cora, "order", 6, cora.train_mask, metis_input_node_weight=3, seed=5,
                        store_features=store)
    a.save(tmp_path / "b.ibmb")
    b = IBMBBatchLoader.load(tmp_path / "b.ibmb", cora)
    assert type(b) is IBMBBatchLoader and isinstance(b, DataLoader)
    assert (b.num_partitions, b.batch_expand_ratio, b.alpha, b.eps, b.norm) == \
           (a.num_partitions, a.batch_expand_ratio, a.alpha, a.eps, a.norm)
    assert np.array_equal(b.partitions, a.partitions)  # recomputed from data and the saved parameters
    _same_batches(a.batches, b.batches)
    for x, y in zip(a, b):
        assert torch.equal(x.n_id, y.n_id) and torch.equal(x.edge_weight, y.edge_weight)
        assert torch.equal(x.x, y.x)


def test_loaded_node_loader_keeps_its_parameters(cora, tmp_path):
    a = IBMBNodeLoader(cora, "sample", cora.train_mask, 8, 32, alpha=0.25, eps=2e-4, norm="sym",
                       add_self_loops=True)
    a.save(tmp_path / "n.ibmb")
    b = IBMBNodeLoader(None, "sample", arena=Arena.load(tmp_path / "n.ibmb"))  # features are in the file
    assert (b.num_auxiliary_nodes, b.num_nodes_per_batch, b.alpha, b.eps, b.norm, b.add_self_loops) == \
           (8, 32, 0.25, 2e-4, "sym", True)
    assert len(list(b)) == a.num_batches


def test_load_refuses_conflicts(cora, tmp_path):
    IBMBNodeLoader(cora, None, cora.train_mask, 8, 32).save(tmp_path / "n.ibmb")
    with pytest.raises(ValueError, match="IBMBNodeLoader"):
        IBMBBatchLoader.load(tmp_path / "n.ibmb", cora)
    with pytest.raises(ValueError, match="norm"):
        IBMBNodeLoader.load(tmp_path / "n.ibmb", cora, norm="sym")
    with pytest.raises(ValueError, match="add_self_loops"):
        IBMBNodeLoader.load(tmp_path / "n.ibmb", cora, add_self_loops=True)
    given = IBMBBatchLoader(cora, None, 4, cora.train_mask, partitions=np.arange(cora.num_nodes) % 4)
    given.save(tmp_path / "g.ibmb")
    with pytest.raises(ValueError, match="partitions"):
        IBMBBatchLoader.load(tmp_path / "g.ibmb", cora).partitions
    again = IBMBBatchLoader.load(tmp_path / "g.ibmb", cora, partitions=given.partitions)
    assert np.array_equal(again.partitions, given.partitions)
    with pytest.raises(ValueError, match="pass data"):
        IBMBBatchLoader.load(tmp_path / "g.ibmb", batch_size=2)


def test_norm_choices(cora):
    with pytest.raises(ValueError, match="norm must be one of"):
        IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, norm="global")
    loader = IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, norm="graph-sym")
    deg = torch.bincount(cora.edge_index[0], minlength=cora.num_nodes).double()
    for b in loader:
        src, dst = b.n_id[b.edge_index[0]], b.n_id[b.edge_index[1]]
        torch.testing.assert_close(b.edge_weight.double(), 1 / torch.sqrt(deg[src] * deg[dst]), rtol=1e-6, atol=0)


def test_module_names():
    import ibmb.ops
    import ibmb.profiling

    assert ibmb.gather is ibmb.ops.gather and callable(ibmb.gather)
    assert ibmb.profile is ibmb.profiling.profile and callable(ibmb.profile)
    from ibmb.batching import Arena as A, BatchOrder  # the names batching had before the split
    from ibmb.order import BatchOrder as B

    assert A is Arena and BatchOrder is B


def test_data_dir_variable(monkeypatch, tmp_path):
    from ibmb.data import data_dir

    monkeypatch.delenv("IBMB_DATA", raising=False)
    monkeypatch.delenv("IBMB_DATA_ROOT", raising=False)
    assert data_dir().name == "data" and ".cache" in str(data_dir())
    monkeypatch.setenv("IBMB_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("IBMB_DATA")
    monkeypatch.setenv("IBMB_DATA_ROOT", str(tmp_path / "old"))
    with pytest.warns(DeprecationWarning, match="IBMB_DATA"):
        assert data_dir() == tmp_path / "old"


def test_builtin_graph_defaults_agree():
    import inspect

    from ibmb import data, datasets

    for fn in (datasets.csbm, data.load):
        p = inspect.signature(fn).parameters
        assert p["homophily"].default == datasets.HOMOPHILY and p["separation"].default == datasets.SEPARATION
    import argparse

    from ibmb import cli

    if not hasattr(cli, "_data_args"):  # the CLI builds its flags elsewhere
        return
    p = argparse.ArgumentParser()
    cli._data_args(p)
    args = p.parse_args([])
    assert args.homophily == datasets.HOMOPHILY and args.separation == datasets.SEPARATION
