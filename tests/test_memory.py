"""Native memory is released deterministically (issue 12, finding 1).

Arenas, graphs, samplers and step inducers are each owned by one
``ibmb._native.Handle``; views of an arena keep its memory alive, never the
other way round, so no reference cycle runs through numpy arrays. RSS is read
from /proc/self/statm after ``gc.collect()``; the engine's live objects are
counted with ``NumHandles``.
"""
from __future__ import annotations

import gc
import os
import threading
import time

import numpy as np
import pytest
import torch

import ibmb
from ibmb._native import engine
from ibmb.batching import Arena, Batches
from ibmb.graph import CSRGraph

MiB = 1 << 20


def rss() -> int:
    """Resident set size of this process in bytes, after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def handles() -> int:
    gc.collect()
    return int(engine.NumHandles())


def ring(n: int) -> np.ndarray:
    src = np.arange(n, dtype=np.int64)
    return np.stack([np.concatenate([src, (src + 1) % n]), np.concatenate([(src + 1) % n, src])])


def big_arena(n: int = 20_000, f: int = 256, copies: int = 5) -> Arena:
    """An arena of about ``copies * n * f * 4`` bytes (100 MiB by default):
    ``copies`` batches of every node of a ring, with float32 features."""
    g = CSRGraph.from_edge_index(ring(n), n)
    x = np.ones((n, f), np.float32)
    nodes = np.tile(np.arange(n, dtype=np.int64), copies)
    ptr = np.arange(copies + 1, dtype=np.int64) * n
    b = Batches(np.arange(copies + 1, dtype=np.int64), np.arange(copies, dtype=np.int64), ptr, nodes)
    return Arena.build(g, b, x=x, y=np.zeros(n, np.int64))


def test_arena_build_and_drop_returns_memory():
    big_arena().nbytes  # warm up allocator and engine
    base, h0 = rss(), handles()
    for _ in range(5):
        a = big_arena()
        assert a.nbytes > 95 * MiB
        del a
    grown = rss() - base
    assert grown < 50 * MiB, f"RSS grew by {grown / MiB:.0f} MiB over 5 arenas of 100 MiB"
    assert handles() == h0


def test_arena_memory_lives_exactly_as_long_as_its_last_view():
    base, h0 = rss(), handles()
    a = big_arena()
    view = a[3]  # one batch: ids, edges, labels, 20 MiB of features
    x = view.x
    del a, view
    # The Arena object is gone but a view is not: the memory must stay mapped and valid.
    assert handles() == h0 + 1
    assert rss() - base > 80 * MiB
    assert x.shape == (20_000, 256) and float(x.sum(dtype=np.float64)) == 20_000 * 256
    t = torch.from_numpy(x)  # a tensor of the view also keeps it
    del x
    assert handles() == h0 + 1 and float(t[-1].sum()) == 256
    del t
    assert handles() == h0
    assert rss() - base < 30 * MiB, "arena memory not released after its last view"


def test_no_reference_cycle_keeps_an_arena():
    # Without gc: dropping the Arena frees it at once (refcounting alone).
    h0 = handles()
    gc.disable()
    try:
        a = big_arena(n=1000, f=4, copies=2)
        assert engine.NumHandles() == h0 + 1
        del a
        assert engine.NumHandles() == h0
    finally:
        gc.enable()


def test_loader_builds_do_not_leak(cora):
    def build():
        return ibmb.IBMBNodeLoader(cora, "sample", cora.train_mask, 4, 64, eps=1e-3, store_features=True)

    build()
    base, h0 = rss(), handles()
    for _ in range(300):
        loader = build()
    assert loader.arena.nbytes > 2 * MiB  # each build holds megabytes, so a leak shows
    del loader
    grown = rss() - base
    assert grown < 50 * MiB, f"RSS grew by {grown / MiB:.0f} MiB over 300 loader builds"
    assert handles() == h0


def test_merged_batches_do_not_leak(cora):
    loader = ibmb.IBMBNodeLoader(cora, "sample", cora.train_mask, 16, 16, batch_size=4, prefetch=2)
    assert len(loader) >= 2 and loader.num_batches > len(loader)
    h0 = handles()
    for _ in range(5):
        for batch in loader:
            pass
    base = rss()
    for _ in range(100):
        for batch in loader:
            assert batch.batch_size > 0
    del batch
    grown = rss() - base
    assert grown < 50 * MiB, f"RSS grew by {grown / MiB:.0f} MiB over 100 epochs with batch_size=4"
    assert handles() == h0  # no arena (nor anything else) per step
    del loader
    assert handles() < h0


def test_everything_a_loader_holds_is_freed(cora):
    h0 = handles()
    loader = ibmb.IBMBBatchLoader(cora, "sample", 4, cora.train_mask, batch_size=2)
    for _ in loader:
        pass
    assert handles() > h0
    del loader
    assert handles() == h0


def test_graph_close_and_finalizer():
    h0 = handles()
    g = CSRGraph.from_edge_index(ring(10))
    assert handles() == h0 + 1
    g.close()
    g.close()  # idempotent
    assert handles() == h0
    with pytest.raises(ValueError, match="closed"):
        g.degree()
    g = CSRGraph.from_edge_index(ring(10))
    sub = g.induced(np.arange(5))
    del g, sub
    assert handles() == h0


def _merged_by_arena(loader, cora, group, store: bool, self_loops: bool):
    """A merged batch as it was built before (one ArenaBuild per step)."""
    views = [loader.arena[int(b)] for b in group]
    out = np.unique(np.concatenate([v.n_id[:v.batch_size] for v in views]))
    nodes = np.unique(np.concatenate([v.n_id for v in views]))
    b = Batches(np.array([0, len(out)], np.int64), out, np.array([0, len(nodes)], np.int64), nodes)
    g = CSRGraph.from_edge_index(cora.edge_index, cora.num_nodes, drop_duplicates=True, add_self_loops=self_loops)
    return Arena.build(g, b, x=cora.x if store else None, y=cora.y, norm=loader.norm)[0]


@pytest.mark.parametrize("norm,self_loops,store", [("sym", False, True), ("rw", True, False), ("none", False, None)])
def test_merged_batches_equal_an_arena_of_the_union(cora, norm, self_loops, store):
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 16, 16, norm=norm, add_self_loops=self_loops,
                                 store_features=store, batch_size=4, prefetch=1)
    nb = loader.num_batches
    groups = [np.arange(i, min(i + 4, nb)) for i in range(0, nb, 4)]
    assert nb > 4 and any(len(g) > 1 for g in groups)
    batches = list(loader)  # batch_order None: the arena's order, 4 at a time
    assert len(batches) == len(groups)
    for group, got in zip(groups, batches):
        want = _merged_by_arena(loader, cora, group, bool(store), self_loops)
        assert got.batch_size == want.batch_size
        assert np.array_equal(got.n_id.numpy(), want.n_id)
        assert np.array_equal(got.output_node_mask.numpy(), want.output_mask)
        assert np.array_equal(got.edge_index.numpy(), want.edge_index)
        assert np.array_equal(got.edge_weight.numpy().view(np.int32), want.edge_weight.view(np.int32))  # bitwise
        assert np.array_equal(got.y.numpy(), want.y)
        assert torch.equal(got.x, cora.x[got.n_id])


@pytest.mark.parametrize("batch_size", [1, 2])
def test_leaving_a_prefetching_loop_early_returns(cora, batch_size):
    # The prefetch thread used to block forever putting its end marker into
    # the full queue once the consumer had stopped reading: `break` hung.
    loader = ibmb.IBMBNodeLoader(cora, "rand", cora.train_mask, 4, 32, batch_size=batch_size, prefetch=2,
                                 store_features=False)
    assert len(loader) >= 3
    for _ in range(3):
        it = iter(loader)
        next(it)
        time.sleep(0.5)  # let the thread fill the queue and finish
        done = threading.Event()
        threading.Thread(target=lambda: (it.close(), done.set()), daemon=True).start()
        assert done.wait(30), "closing the loader's iterator hung"
    assert not [t for t in threading.enumerate() if t.name == "ibmb-prefetch"]


def test_merge_asks_again_when_the_edge_estimate_is_short():
    # A complete graph: members without edges make the first capacity guess
    # (members' edges + 4 per node) too small, so the engine is asked twice.
    from ibmb._steps import StepMerger
    from ibmb.batching import ArenaBatch

    n = 12
    src, dst = np.nonzero(~np.eye(n, dtype=bool))
    g = CSRGraph.from_edge_index(np.stack([src, dst]), n)
    none = np.zeros(0, np.float32)
    views = [ArenaBatch(np.array([0, 1, 2, 3, 4, 5]), np.ones(6, bool), np.zeros((2, 0), np.int64), none, None, None, 2),
             ArenaBatch(np.array([6, 7, 8, 9, 10, 11]), np.ones(6, bool), np.zeros((2, 0), np.int64), none, None, None, 1)]
    got = StepMerger(g, "sym", np.arange(n)).merge(views)
    out, nodes = np.array([0, 1, 6]), np.arange(n)
    want = Arena.build(g, Batches(np.array([0, 3]), out, np.array([0, n]), nodes), y=np.arange(n))[0]
    assert got.edge_index.shape == (2, n * (n - 1)) and np.array_equal(got.edge_index, want.edge_index)
    assert np.array_equal(got.n_id, want.n_id) and np.array_equal(got.edge_weight, want.edge_weight)
    assert np.array_equal(got.y, want.y) and got.batch_size == 3


def test_host_registration_is_undone_before_the_memory_goes(monkeypatch):
    # cudaHostRegister of an arena is paired with cudaHostUnregister when the
    # registration goes, and the arena memory outlives it: unregistering
    # unmapped memory would be undefined. A fake runtime records the calls.
    from ibmb import _steps

    calls = []

    class FakeRuntime:
        def cudaHostRegister(self, addr, size, flags):
            calls.append(("register", addr, size, engine.NumHandles()))
            return 0

        def cudaHostUnregister(self, addr):
            calls.append(("unregister", addr, None, engine.NumHandles()))
            return 0

    monkeypatch.setattr(torch.cuda, "cudart", lambda: FakeRuntime())
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    h0 = handles()
    a = big_arena(n=1000, f=4, copies=2)
    addr, size = a.address, a.nbytes
    reg = _steps.HostRegistration(a)
    assert reg.ok and calls == [("register", addr, size, h0 + 1)]
    del a
    assert handles() == h0 + 1  # the registration keeps the memory
    del reg
    assert calls[1] == ("unregister", addr, None, h0 + 1)  # still mapped while unregistering
    assert handles() == h0
