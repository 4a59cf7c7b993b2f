"""ibmb.distributed (issue 15) on 2 ranks, gloo on localhost, 1 thread each:
sharded batches against the single-process ones, macrobatched fetch against
per-batch fetch, 2-rank training accuracy against 1 rank (the built-in
graph and Cora, ibmb-node and ibmb-batch; the 2-rank run with the same
same flags), and a failing rank ending the job
on every rank within the timeout.

Cost (CI runs this on 2 cores): one spawned 2-rank job runs all the
rank-side checks in sequence (tests/_dist_checks.py), since starting ranks
(fresh interpreters importing torch and PyG) is slow; the single-process
references run in this process with 1 torch and 1 engine thread, like each
rank (with the default threads on a loaded 2-core machine a 40-epoch
reference took 20-100 s instead of ~6 s)."""
from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")
import torch.distributed as dist  # noqa: E402

if not dist.is_available():  # pragma: no cover
    pytest.skip("torch.distributed is not available", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).parent))
import _dist_checks as C  # noqa: E402
from conftest import DATA, load_cora  # noqa: E402

from ibmb.distributed import shard  # noqa: E402
from ibmb.distributed.launch import DistributedError, spawn  # noqa: E402
from ibmb.train import Config  # noqa: E402

WORLD = 2


def _cfg(**kw) -> Config:
    base = dict(hidden=32, epochs=40, patience=40, eval_every=4, lr=0.02, dropout=0.0, num_nodes_per_batch=64,
                progress=False, infer_nodes_per_batch=512)
    base.update(kw)
    return Config(**base)


def _cases(tmp_root: Path) -> list:
    import ibmb.data as D

    gen = D.load("default", num_nodes=3000, num_features=16, homophily=0.5, separation=0.4, split_seed=1)
    cases = [("gen-node", gen, _cfg(macrobatch=0), "ibmb-node"),
             ("gen-batch", gen, _cfg(macrobatch=4, num_partitions=8), "ibmb-batch")]
    if (DATA / "planetoid" / "Cora" / "raw").is_dir():
        cora = load_cora(tmp_root)
        slow = dict(lr=0.01, epochs=20, eval_every=2, patience=20)  # noisy validation; best epochs were 4-14 of 50
        cases += [("cora-node", cora, _cfg(macrobatch=1, num_nodes_per_batch=16, **slow), "ibmb-node"),
                  ("cora-batch", cora, _cfg(macrobatch=0, num_nodes_per_batch=16, num_partitions=16, **slow),
                   "ibmb-batch")]
    return cases


def _per_rank(cfg: Config, name: str) -> Config:
    """The 2-rank settings of a 1-rank ``cfg``. Node-wise: the same flags,
    as ``ibmb train --nproc 2`` runs them (outputs per batch are per rank,
    so 2 ranks step on 2 batches at once; DDP was checked equal to a
    one-process simulation of the same batches). Halving the node-wise
    batch instead (the same global batch from 25-output batches over half
    the training nodes each) trained worse on the generated graph: -2.67,
    0.0, -2.67 points at seeds 0-2 against one process (RESULTS.md).
    Batch-wise: twice the parts (the same global batch; each part's batch
    is exactly a one-process batch); with the same parts Cora's 2-rank
    run was 1.5 points below 1 rank, at the edge of the assertion."""
    if name == "ibmb-node":
        return cfg
    return C.with_cfg(cfg, num_partitions=cfg.num_partitions * WORLD)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    cases = _cases(tmp_path_factory.mktemp("planetoid"))
    fetch_x = torch.randn(503, 5)
    t = time.perf_counter()
    two = [(tag, data, _per_rank(cfg, name), name) for tag, data, cfg, name in cases]
    ranks = spawn(C.rank_checks, WORLD, (two, fetch_x), timeout_s=60, threads=1)
    print(f"2-rank job: {time.perf_counter() - t:.1f} s")
    return cases, fetch_x, ranks


@contextlib.contextmanager
def _one_thread():
    """1 torch and 1 engine thread here while the block runs (as each rank)."""
    import ibmb

    t = torch.get_num_threads()
    e = ibmb.set_num_threads(1)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(t)
        ibmb.set_num_threads(e)


def _reference_batches(data, cfg, name) -> list:
    """What one process builds: node-wise over each rank's chunk (the
    sharding's definition), batch-wise over all training nodes."""
    from ibmb.train.methods import create

    if name == "ibmb-batch":
        m = create(name, data, cfg)
        m.prepare()
        return C.batches_of(m.loader)
    out = []
    for r in range(WORLD):
        mask = torch.zeros(data.num_nodes, dtype=torch.bool)
        mask[torch.from_numpy(shard.chunk(data.train_mask, r, WORLD))] = True
        m = create(name, data, cfg)
        out += C.batches_of(m.build(mask, cfg.batch_order))
    return sorted(out)


def test_sharded_batches_union_equals_single_process(job):
    cases, _, ranks = job
    for tag, data, cfg, name in cases:
        cfg = _per_rank(cfg, name)
        union = sorted(b for r in ranks for b in r[tag]["batches"])
        with _one_thread():
            ref = _reference_batches(data, cfg, name)
        assert union == ref, tag
        outs = np.concatenate([np.array(o, dtype=np.int64) for o, _ in union])
        assert np.array_equal(np.sort(outs), np.flatnonzero(data.train_mask.numpy())), tag  # each output once
        steps = {r[tag]["steps"] for r in ranks}
        assert steps == {max(r[tag]["local"] for r in ranks)}, tag  # equal steps: the largest share


def test_macrobatched_fetch_equals_per_batch(job):
    _, _, ranks = job
    for r in ranks:
        assert r["fetch_same"]
        t = r["traffic"]
        assert t[1][2] > t[3][2] > t[16][2] >= 1  # fewer exchanges with larger k ...
        assert t[16][0] <= t[1][0] and t[16][1] <= t[1][1]  # ... and never more bytes (duplicates cross once)


def test_two_ranks_accuracy_within_1_5_points_of_one(job):
    from ibmb.train.loop import train_eval

    cases, _, ranks = job
    failed = []
    for tag, data, cfg, name in cases:
        with _one_thread():
            res = train_eval(name, data, cfg)
        one = res.test_acc
        two = {r[tag]["acc"] for r in ranks}
        assert len(two) == 1, f"{tag}: ranks report different accuracies {two}"  # one gathered table
        two_acc = two.pop()
        print(f"{tag}: 1 rank {100 * one:.2f} (best epoch {res.best_epoch} of {res.epochs}), 2 ranks "
              f"{100 * two_acc:.2f} (best epoch, epochs: {ranks[0][tag]['epochs']})")
        if abs(two_acc - one) > 0.015:
            failed.append(f"{tag}: 1 rank {one:.4f}, 2 ranks {two_acc:.4f}")
    assert not failed


def test_failing_rank_ends_the_job_on_every_rank():
    t = time.perf_counter()
    with pytest.raises(DistributedError) as e:
        spawn(C.failing, WORLD, (1,), timeout_s=10, threads=1, grace_s=20)
    took = time.perf_counter() - t
    assert set(e.value.errors) == {0, 1}
    assert "fails on purpose" in e.value.errors[1]
    assert "killed" not in e.value.errors[0]  # rank 0 ended by itself, with an error from its collective
    assert "rank 0" in str(e.value) and "rank 1" in str(e.value)
    assert took < 10 + 20 + 60  # never a hang (the spawn itself takes seconds on a loaded machine)


def test_spawn_rejects_bad_nproc():
    with pytest.raises(ValueError, match="nproc"):
        spawn(C.failing, 0)


def test_padded_repeats_first_batches_and_cuts():
    assert list(shard.padded(iter([1, 2, 3]), 5)) == [1, 2, 3, 1, 2]
    assert list(shard.padded(iter([1, 2, 3]), 2)) == [1, 2]
    with pytest.raises(ValueError, match="no batches"):
        list(shard.padded(iter([]), 2))


def test_chunks_and_parts_cover_each_output_once():
    rng = np.random.default_rng(0)
    ids = np.unique(rng.integers(0, 1000, 300))
    chunks = [shard.chunk(ids, r, 3) for r in range(3)]
    assert np.array_equal(np.concatenate(chunks), ids)
    assert max(map(len, chunks)) - min(map(len, chunks)) <= 1
    parts = rng.integers(0, 7, 1000)
    mine = [shard.assign_parts(parts, ids, 3)[r] for r in range(3)]
    masks = [shard.parts_mask(parts, ids, p) for p in mine]
    assert np.array_equal(np.flatnonzero(np.sum(masks, axis=0)), ids) and np.max(np.sum(masks, axis=0)) == 1
    runs = [shard.batch_chunk(ids, r, 3, 40) for r in range(3)]  # whole runs of 40 outputs per rank
    assert np.array_equal(np.concatenate(runs), ids)
    assert all(len(c) % 40 == 0 for c in runs[:-1]) and len(runs[-1]) <= len(ids) - 40
    one = [shard.batch_chunk(ids, r, 2, 10 ** 6) for r in range(2)]  # fewer batches than ranks: one rank has all
    assert sorted(map(len, one)) == [0, len(ids)]
    with pytest.raises(ValueError, match="per_batch"):
        shard.batch_chunk(ids, 0, 2, 0)
    b = shard.node_bounds(10, 3)
    assert b.tolist() == [0, 3, 6, 10] and shard.owner_of([0, 2, 3, 9], b).tolist() == [0, 0, 1, 2]


def test_nproc_under_torchrun_is_refused(monkeypatch, capsys):
    import argparse

    from ibmb import distributed

    args = argparse.Namespace(nproc=2, device="cpu", dist_timeout=5.0, threads=1)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.wanted(args) and not distributed.wanted(argparse.Namespace(nproc=1))
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert distributed.wanted(argparse.Namespace(nproc=1))
    assert distributed.start(args, lambda a: 0) == 2
    assert "torchrun" in capsys.readouterr().err


@pytest.mark.parametrize("world_size", [None, "2"])
def test_history_momentum_is_refused_before_any_rank_starts(monkeypatch, capsys, world_size):
    import argparse

    from ibmb import distributed
    from ibmb.distributed import launch

    def no_spawn(*a, **k):
        raise AssertionError("a rank was started")

    monkeypatch.setattr(launch, "spawn", no_spawn)
    monkeypatch.setattr(launch, "init_from_env", no_spawn)
    if world_size is None:
        monkeypatch.delenv("WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("WORLD_SIZE", world_size)
    args = argparse.Namespace(nproc=2 if world_size is None else 1, device="cpu", dist_timeout=5.0, threads=1,
                              history_momentum=0.5)
    assert distributed.start(args, lambda a: 0) == 2
    assert "--history-momentum" in capsys.readouterr().err


def test_init_from_env_names_missing_variables(monkeypatch):
    from ibmb.distributed.launch import init_from_env

    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ValueError, match="RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT"):
        init_from_env()
