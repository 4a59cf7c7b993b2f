"""Halo batches from the engine (issue 14 item 2).

The engine's halo (``ibmb.nn.Halo``, the loaders' ``halo=`` arenas, merged
halo batches) is checked against a numpy reference written here (the
interim Python halo that ``ibmb.nn.Halo`` used to be): same ``n_id`` in the
same order, same edges, same weights; a HistoryGNN forward over engine halo
batches equals the one over reference batches; saved halo batches load
back; bad input raises; building and dropping halo loaders returns memory.
"""
from __future__ import annotations

import copy
import gc

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

import ibmb
import ibmb.nn as inn
from ibmb.arena import Arena
from ibmb.graph import CSRGraph


class RefHalo:
    """The numpy reference: the in-edge CSR of ``edge_index`` (repeats
    merged, optional self-loops) with in-degree weights."""

    def __init__(self, edge_index, n, loops: bool, norm: str) -> None:
        ei = np.asarray(edge_index, dtype=np.int64)
        pairs = set(zip(ei[1].tolist(), ei[0].tolist()))  # (target, source)
        if loops:
            pairs |= {(v, v) for v in range(n)}
        t, s = np.array(sorted(pairs), dtype=np.int64).T
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=n))])
        self.indices = s
        deg = np.diff(self.indptr).astype(np.float64)
        inv = np.where(deg > 0, 1 / np.where(deg > 0, deg, 1), 0)
        if norm == "sym":
            w = np.sqrt(inv[t]) * np.sqrt(inv[s])
        elif norm == "rw":
            w = inv[t]
        else:
            w = np.ones(len(t))
        self.weight = w.astype(np.float32)

    def __call__(self, nodes):
        nodes = np.asarray(nodes, dtype=np.int64)
        pos = np.concatenate([np.arange(self.indptr[v], self.indptr[v + 1]) for v in nodes] + [np.zeros(0, np.int64)])
        src = self.indices[pos]
        tgt = np.repeat(np.arange(len(nodes)), np.diff(self.indptr)[nodes])
        halo = np.setdiff1d(np.unique(src), nodes)
        local = {int(v): i for i, v in enumerate(np.concatenate([nodes, halo]))}
        src_local = np.array([local[int(u)] for u in src], dtype=np.int64)
        return np.concatenate([nodes, halo]), np.stack([src_local, tgt]), self.weight[pos], len(nodes)


def interim_halo(edge_index, n, loops: bool, norm: str):
    """The interim ``ibmb.nn.Halo`` (numpy indexing over the reversed CSR
    and the engine's ``edge_weight``), as a function of the node list."""
    g = CSRGraph.from_edge_index(np.ascontiguousarray(np.asarray(edge_index)[::-1]), n, add_self_loops=loops,
                                 drop_duplicates=True)
    indptr, indices = (np.asarray(a) for a in g.csr())
    weight = np.asarray(g.edge_weight(norm), dtype=np.float32)

    def call(nodes):
        nodes = np.asarray(nodes, dtype=np.int64)
        start, count = indptr[nodes], indptr[nodes + 1] - indptr[nodes]
        pos = np.repeat(start - np.concatenate([[0], np.cumsum(count)[:-1]]), count) + np.arange(count.sum())
        src = indices[pos]
        local = np.full(n, -1, np.int64)
        local[nodes] = np.arange(len(nodes))
        halo = np.unique(src[local[src] < 0])
        local[halo] = len(nodes) + np.arange(len(halo))
        tgt = np.repeat(np.arange(len(nodes)), count)
        return np.concatenate([nodes, halo]), np.stack([local[src], tgt]), weight[pos], len(nodes)

    return call


def same_batch(got, want) -> None:
    n_id, ei, ew, b = want
    assert int(got.num_exact) == b
    assert np.array_equal(np.asarray(got.n_id), n_id)
    assert np.array_equal(np.asarray(got.edge_index), ei)
    assert np.allclose(np.asarray(got.edge_weight), ew, rtol=1e-6, atol=0)


def generated() -> tuple[np.ndarray, int]:
    """A directed graph with repeated edges, self-loops and isolated nodes."""
    r = np.random.default_rng(4)
    n = 300
    ei = r.integers(0, n - 10, size=(2, 1500))
    ei = np.concatenate([ei, ei[:, :100], [[5, 6], [5, 6]]], axis=1)  # repeats and two self-loops
    return ei, n


@pytest.mark.parametrize("norm", ["sym", "rw", "none"])
@pytest.mark.parametrize("loops", [True, False])
def test_engine_halo_equals_reference(cora, norm, loops):
    r = np.random.default_rng(1)
    for ei, n in [(cora.edge_index.numpy(), cora.num_nodes), generated()]:
        halo, ref = inn.Halo(torch.from_numpy(ei), n, add_self_loops=loops, norm=norm), RefHalo(ei, n, loops, norm)
        interim = interim_halo(ei, n, loops, norm)
        for size in (1, 37, n // 3):
            nodes = r.choice(n, size, replace=False)  # any order: kept as given
            got = halo(torch.from_numpy(nodes))
            same_batch(got, ref(nodes))
            # bit for bit the interim Python halo's batch
            n_id, ei2, ew, k = interim(nodes)
            assert got.num_exact == k and np.array_equal(got.n_id.numpy(), n_id)
            assert np.array_equal(got.edge_index.numpy(), ei2) and np.array_equal(got.edge_weight.numpy(), ew)
        fei, few = halo.full()
        assert fei.shape[1] == len(ref.indices) and np.allclose(few.numpy(), ref.weight, rtol=1e-6)


def small_data(ei: np.ndarray, n: int) -> Data:
    r = np.random.default_rng(2)
    return Data(x=torch.from_numpy(r.standard_normal((n, 6)).astype(np.float32)), edge_index=torch.from_numpy(ei),
                y=torch.from_numpy(r.integers(0, 3, n)), num_nodes=n)


@pytest.mark.parametrize("kind", ["node", "batch"])
def test_loader_halo_batches(cora, kind):
    train = cora.train_mask
    make = {"node": lambda **kw: ibmb.IBMBNodeLoader(cora, None, train, 8, 32, progress=False, **kw),
            "batch": lambda **kw: ibmb.IBMBBatchLoader(cora, None, 4, train, progress=False, **kw)}[kind]
    plain, withhalo = make(), make(halo=True)
    ref = RefHalo(cora.edge_index.numpy(), cora.num_nodes, True, "sym")
    assert withhalo.arena.has_halo and withhalo.halo == "sym" and not plain.arena.has_halo
    assert withhalo.stats()["halo"] == "sym" and withhalo.stats()["num_nodes"] > plain.stats()["num_nodes"]
    outputs = 0
    for p, h in zip(plain, withhalo):
        # The exact nodes are the plain batch's nodes, in its order.
        assert torch.equal(h.n_id[:h.num_exact], p.n_id) and h.batch_size == p.batch_size
        same_batch(h, ref(p.n_id.numpy()))
        assert torch.equal(h.x, cora.x[h.n_id]) and torch.equal(h.y, cora.y[h.n_id])
        assert h.output_node_mask.sum() == h.batch_size and not hasattr(p, "num_exact")
        outputs += h.batch_size
    assert outputs == int(train.sum())


def test_merged_halo_batches(cora):
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 16, halo="rw", batch_size=3, progress=False)
    assert loader.add_self_loops is False  # "rw" defaults to no self-loops
    ref = RefHalo(cora.edge_index.numpy(), cora.num_nodes, False, "rw")
    views = [loader.arena[b] for b in range(loader.arena.num_batches)]
    merged = list(loader)
    assert len(merged) == (len(views) + 2) // 3
    for i, m in enumerate(merged):
        group = views[3 * i:3 * i + 3]
        out = np.unique(np.concatenate([v.n_id[:v.batch_size] for v in group]))
        exact = np.unique(np.concatenate([v.n_id[:v.num_exact] for v in group]))
        exact = np.concatenate([out, np.setdiff1d(exact, out)])
        same_batch(m, ref(exact))
        assert m.batch_size == len(out) and torch.equal(m.x, cora.x[m.n_id])


def test_history_forward_equal_on_engine_and_reference_batches(cora):
    torch.manual_seed(0)
    a = inn.GCN(cora.num_nodes, cora.num_features, 16, 7, num_layers=3)
    b = copy.deepcopy(a)
    a.eval(), b.eval()
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=a.halo(cora.edge_index), progress=False)
    ref = RefHalo(cora.edge_index.numpy(), cora.num_nodes, True, "sym")
    for batch in inn.HaloLoader(loader, a.halo(cora.edge_index), cora):
        n_id, ei, ew, k = ref(batch.n_id[:batch.num_exact].numpy())
        n_id = torch.from_numpy(n_id)
        oa = a(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=batch.num_exact)
        ob = b(cora.x[n_id], torch.from_numpy(ei), torch.from_numpy(ew), n_id=n_id, num_exact=k)
        assert (oa[:k] - ob[:k]).abs().max().item() < 1e-5
    for layer in range(a.num_layers - 1):
        assert torch.equal(a.histories.layer(layer), b.histories.layer(layer))


def test_halo_loader_save_load(cora, tmp_path):
    halo = inn.Halo(cora.edge_index, cora.num_nodes, add_self_loops=True, norm="sym")
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=halo, progress=False)
    path = tmp_path / "halo.ibmb"
    loader.save(path)
    back = ibmb.IBMBNodeLoader.load(path, cora, None)
    assert back.arena.has_halo and back.halo == "sym" and back.arena.nbytes == loader.arena.nbytes
    for x, y in zip(loader, back):
        assert torch.equal(x.n_id, y.n_id) and x.num_exact == y.num_exact
        assert torch.equal(x.edge_index, y.edge_index) and torch.equal(x.edge_weight, y.edge_weight)
    merged = ibmb.IBMBNodeLoader.load(path, cora, None, batch_size=2, halo=halo)
    ref = RefHalo(cora.edge_index.numpy(), cora.num_nodes, True, "sym")
    m = next(iter(merged))
    same_batch(m, ref(m.n_id[:m.num_exact].numpy()))
    with pytest.raises(ValueError, match="conflicts"):
        ibmb.IBMBNodeLoader.load(path, cora, None, halo="rw")
    with pytest.raises(ValueError, match="conflicts"):
        ibmb.IBMBNodeLoader.load(path, cora, None, halo=False)
    # The batch description excludes the halo: rebuilding gives the same arena.
    assert np.array_equal(back.batches.nodes, loader.batches.nodes)


def test_halo_bad_input(cora):
    n = cora.num_nodes
    with pytest.raises(ValueError, match="halo must be"):
        ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo="mean", progress=False)
    with pytest.raises(ValueError, match="norm"):
        ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=True, norm="sym", progress=False)
    halo = inn.Halo(cora.edge_index, n, add_self_loops=True, norm="sym")
    with pytest.raises(ValueError, match="add_self_loops"):
        ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=halo, add_self_loops=False, progress=False)
    small = inn.Halo(torch.tensor([[0, 1], [1, 0]]), 2)
    with pytest.raises(ValueError, match="nodes"):
        ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=small, progress=False)
    g = CSRGraph.from_edge_index(cora.edge_index, n)
    batches = ibmb.batching.node_wise(g, np.arange(10), 4, 5)
    with pytest.raises(TypeError, match="Halo"):
        Arena.build(g, batches, halo=object())
    with pytest.raises(ValueError, match="norm"):
        Arena.build(g, batches, halo=halo, norm="sym")
    with pytest.raises(ValueError, match="norm"):
        inn.Halo(cora.edge_index, n, norm="mean")
    with pytest.raises(IndexError):
        halo(torch.tensor([0, n]))
    with pytest.raises(ValueError, match="repeated"):
        halo(torch.tensor([3, 4, 3]))
    plain = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo="rw", progress=False)
    with pytest.raises(ValueError, match="norm"):
        inn.HaloLoader(plain, halo, cora)  # the loader's halo batches are "rw" without loops


def test_arena_halo_bytes(cora, capsys):
    """Arena bytes with and without a halo (printed; the halo adds rows and edges)."""
    g = CSRGraph.from_edge_index(cora.edge_index, cora.num_nodes)
    batches = ibmb.batching.node_wise(g, np.flatnonzero(cora.train_mask.numpy()), 16, 32)
    halo = inn.Halo(cora.edge_index, cora.num_nodes, add_self_loops=True, norm="sym")
    plain = Arena.build(g, batches, x=cora.x, y=cora.y)
    withhalo = Arena.build(g, batches, x=cora.x, y=cora.y, halo=halo)
    assert withhalo.sizes()[:, 0].sum() > plain.sizes()[:, 0].sum()
    assert withhalo.nbytes > plain.nbytes
    with capsys.disabled():
        print(f"\ncora arena bytes: {plain.nbytes:,} without halo, {withhalo.nbytes:,} with")


def test_halo_loader_build_and_drop_returns_handles(cora):
    from ibmb._native import engine

    def handles() -> int:
        gc.collect()
        return int(engine.NumHandles())

    def once() -> None:
        loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=True, batch_size=2, progress=False)
        for batch in loader:
            assert batch.num_exact <= batch.n_id.shape[0]
        inn.Halo(cora.edge_index, cora.num_nodes)(torch.arange(10))

    once()
    h0 = handles()
    for _ in range(3):
        once()
    assert handles() == h0


def test_prefetched_halo_pulls(cora):
    """HaloLoader(histories=) pulls each batch's halo rows on a prefetch
    thread ahead of use; the model gives the same result with them as with
    its own pulls when the histories did not change in between."""
    torch.manual_seed(0)
    model = inn.GCN(cora.num_nodes, cora.num_features, 16, 7, num_layers=3)
    model.eval()
    with torch.no_grad():
        model.inference(cora.x, model.halo(cora.edge_index), 1000)  # histories hold real embeddings
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, halo=True, progress=False)
    batches = list(inn.HaloLoader(loader, model.halo(cora.edge_index), cora, histories=model.histories))
    assert len(batches) == len(loader)
    for batch in batches:
        halo = batch.n_id[batch.num_exact:]
        assert len(batch.halo_rows) == 2
        for layer, rows in enumerate(batch.halo_rows):
            assert torch.equal(rows, model.histories.layer(layer)[halo])
    batch = batches[0]
    other = copy.deepcopy(model)
    with torch.no_grad():
        got = model(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=batch.num_exact,
                    halo_rows=batch.halo_rows)
        want = other(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=batch.num_exact)
    assert torch.equal(got, want)
    with pytest.raises(ValueError, match="halo_rows"):
        model(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=batch.num_exact,
              halo_rows=batch.halo_rows[:1])
    with pytest.raises(ValueError, match="halo_rows"):
        model(batch.x, batch.edge_index, batch.edge_weight, n_id=batch.n_id, num_exact=batch.num_exact,
              halo_rows=[r[1:] for r in batch.halo_rows])
    with pytest.raises(ValueError, match="histories"):
        inn.HaloLoader(loader, model.halo(cora.edge_index), cora, histories=ibmb.HistoryStore(5, [16]))


def test_halo_pulls_run_ahead_on_a_thread(cora):
    import threading

    class Recorder:
        """A HistoryStore stand-in that records which thread pulls when."""

        num_nodes, num_layers = cora.num_nodes, 1

        def __init__(self) -> None:
            self.threads: list[int] = []
            self.pulled = [threading.Event() for _ in range(64)]

        def pull(self, layer, ids):
            self.threads.append(threading.get_ident())
            self.pulled[len(self.threads) - 1].set()
            return torch.zeros(len(ids), 4)

    rec = Recorder()
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 16, halo=True, progress=False)
    halo = inn.Halo(cora.edge_index, cora.num_nodes, add_self_loops=True, norm="sym")
    n = len(loader)
    assert 2 < n < 64
    for i, batch in enumerate(inn.HaloLoader(loader, halo, cora, histories=rec, prefetch=1)):
        assert batch.halo_rows[0].shape[0] == batch.n_id.shape[0] - batch.num_exact
        if i + 1 < n:  # while this batch is in use, the next one's rows are pulled
            assert rec.pulled[i + 1].wait(10)
    assert len(rec.threads) == n and threading.get_ident() not in rec.threads


def test_halo_arena_build_and_drop_returns_memory():
    """About 100 MiB of halo arena (half of each batch's rows are its halo),
    built and dropped five times: RSS and the engine's handles come back."""
    import os

    from ibmb._native import engine
    from ibmb.batching import Batches

    def rss() -> int:
        gc.collect()
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    n, f, copies = 20_000, 256, 5
    src = np.arange(n, dtype=np.int64)
    ring = np.stack([np.concatenate([src, (src + 1) % n]), np.concatenate([(src + 1) % n, src])])
    g = CSRGraph.from_edge_index(ring, n)
    halo = inn.Halo(torch.from_numpy(ring), n, add_self_loops=True, norm="sym")
    x = np.ones((n, f), np.float32)
    even = np.arange(0, n, 2, dtype=np.int64)
    nodes = np.tile(even, copies)
    ptr = np.arange(copies + 1, dtype=np.int64) * even.shape[0]
    b = Batches(np.arange(copies + 1, dtype=np.int64), np.zeros(copies, np.int64), ptr, nodes)

    def build() -> Arena:
        return Arena.build(g, b, x=x, y=np.zeros(n, np.int64), halo=halo)

    a = build()
    assert a[0].num_exact == n // 2 and a[0].n_id.shape[0] == n  # the odd nodes are the halo
    del a
    base, h0 = rss(), int(engine.NumHandles())
    for _ in range(5):
        a = build()
        assert a.nbytes > 95 * (1 << 20)
        del a
    assert rss() - base < 50 * (1 << 20)
    gc.collect()
    assert int(engine.NumHandles()) == h0


def test_halo_arena_file_checks(cora, tmp_path):
    g = CSRGraph.from_edge_index(cora.edge_index, cora.num_nodes)
    batches = ibmb.batching.node_wise(g, np.arange(0, 200, 3), 8, 16)
    halo = inn.Halo(cora.edge_index, cora.num_nodes, add_self_loops=True, norm="sym")
    a = Arena.build(g, batches, y=cora.y, halo=halo)
    path = tmp_path / "h.ibmb"
    a.save(path)
    back = Arena.load(path)
    assert back.has_halo and repr(back).endswith("halo=True)")
    for b in range(len(a)):
        assert a[b].num_exact == back[b].num_exact and np.array_equal(a[b].n_id, back[b].n_id)
    raw = bytearray(path.read_bytes())
    raw[8] = 99  # the format version
    (tmp_path / "v.ibmb").write_bytes(bytes(raw))
    with pytest.raises(OSError, match="version 99.*versions 2 and 3"):
        Arena.load(tmp_path / "v.ibmb")
    (tmp_path / "t.ibmb").write_bytes(path.read_bytes()[:-64])
    with pytest.raises(OSError, match="truncated"):
        Arena.load(tmp_path / "t.ibmb")
