"""ibmb.nn: models with historical embeddings.

Exactness: layer-wise inference (every layer computed for all nodes in
batches with a halo, through the histories) equals the full-batch forward of
plain PyG layers (GCNConv/GCN2Conv with their own normalization, APPNP) on
Cora and on the twitch graph; a training step on a batch holding the whole
graph equals the full-batch step; with filled histories a partial batch's
exact rows equal the full-batch outputs. Plus the interim halo and bad input.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

import torch.nn.functional as F  # noqa: E402
from torch_geometric.data import Data  # noqa: E402
from torch_geometric.nn import APPNP as PygAPPNP  # noqa: E402
from torch_geometric.nn import GCN2Conv, GCNConv  # noqa: E402

import ibmb  # noqa: E402
import ibmb.nn as inn  # noqa: E402
from conftest import load_edges  # noqa: E402

TOL = 1e-4


@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine is shared; small graphs gain nothing from threads
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def twitch() -> Data:
    """The twitch graph (real edges) with random 32-dim features."""
    ei = torch.from_numpy(load_edges("twitch"))
    n = int(ei.max()) + 1
    g = torch.Generator().manual_seed(7)
    return Data(x=torch.randn(n, 32, generator=g), edge_index=ei, num_nodes=n,
                y=torch.randint(0, 2, (n,), generator=g))


def _reference(model: inn.HistoryGNN, data: Data) -> torch.Tensor:
    """Eval-mode full-batch forward of plain PyG layers that normalize the
    graph themselves, with the model's weights."""
    x, ei = data.x, data.edge_index
    with torch.no_grad():
        if isinstance(model, inn.GCN):
            h = x
            for i, conv in enumerate(model.convs):
                ref = GCNConv(conv.in_channels, conv.out_channels)
                ref.load_state_dict(conv.state_dict())
                h = ref(h, ei)
                h = h.relu() if i < len(model.convs) - 1 else h
            return h
        if isinstance(model, inn.GCNII):
            h = x0 = model.lins[0](x).relu()
            for conv in model.convs:
                ref = GCN2Conv(conv.channels, conv.alpha, shared_weights=conv.weight2 is None)
                ref.beta = conv.beta  # the layer-dependent strength of the identity map
                ref.load_state_dict(conv.state_dict())
                h = ref(h, x0, ei).relu()
            return model.lins[1](h)
        if isinstance(model, inn.APPNP):
            x0 = model.lins[1](model.lins[0](x).relu())
            return PygAPPNP(model.num_layers, model.alpha)(x0, ei)
        model.eval()
        try:
            return model(x, ei)  # SAGE, GAT: their layers take the plain graph
        finally:
            model.train()


MODELS = {
    "gcn": lambda n, f, c: inn.GCN(n, f, 16, c, num_layers=3),
    "gcnii16": lambda n, f, c: inn.GCNII(n, f, 16, c, num_layers=16),
    "sage": lambda n, f, c: inn.SAGE(n, f, 16, c, num_layers=3),
    "gat": lambda n, f, c: inn.GAT(n, f, 8, c, heads=2),
    "appnp": lambda n, f, c: inn.APPNP(n, f, 16, c, K=5),
}


def _check_inference(model: inn.HistoryGNN, data: Data, rng: np.random.Generator, per_batch: int) -> None:
    halo = model.halo(data.edge_index)
    perm = rng.permutation(data.num_nodes)  # batches of scattered nodes, in random order
    out = model.inference(data.x, halo, batches=halo.batches(per_batch, nodes=perm))
    ref = _reference(model, data)
    assert out.shape == ref.shape
    diff = float((out - ref).abs().max())
    assert diff < TOL, f"{type(model).__name__}: max abs diff {diff}"
    assert model.training  # mode restored


@pytest.mark.parametrize("kind", list(MODELS))
def test_inference_equals_full_batch_cora(cora, kind, rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = MODELS[kind](cora.num_nodes, cora.num_features, 7)
    _check_inference(model, cora, rng, per_batch=int(rng.integers(200, 900)))


@pytest.mark.parametrize("kind", ["gcn", "gcnii16"])
def test_inference_equals_full_batch_twitch(twitch, kind, rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = MODELS[kind](twitch.num_nodes, twitch.num_features, 2)
    _check_inference(model, twitch, rng, per_batch=int(rng.integers(1000, 3000)))


@pytest.mark.parametrize("kind", ["gcn", "sage", "appnp"])
def test_inference_equals_full_batch_directed(kind, rng):
    # Directed random graph with repeated edges and some self-loops: weights and
    # mean aggregation must follow in-degrees, as PyG's layers do.
    n = 300
    ei = torch.from_numpy(rng.integers(0, n, (2, 2000)))
    ei = torch.unique(ei, dim=1)  # PyG's layers count repeats; Halo merges them
    data = Data(x=torch.randn(n, 12, generator=torch.Generator().manual_seed(int(rng.integers(1 << 31)))),
                edge_index=ei, num_nodes=n)
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = MODELS[kind](n, 12, 3)
    _check_inference(model, data, rng, per_batch=int(rng.integers(20, 120)))


def test_inference_fills_histories_with_hidden_layers(cora):
    model = inn.GCN(cora.num_nodes, cora.num_features, 16, 7, num_layers=3).eval()
    halo = model.halo(cora.edge_index)
    model.inference(cora.x, halo, 700)
    with torch.no_grad():
        ei, ew = halo.full()
        h1 = model.convs[0](cora.x, ei, ew).relu()
        h2 = model.convs[1](h1, ei, ew).relu()
    assert float((model.histories.layer(0) - h1).abs().max()) < TOL
    assert float((model.histories.layer(1) - h2).abs().max()) < TOL


@pytest.mark.parametrize("kind", ["gcn", "gcnii16", "gat"])
def test_partial_batch_with_filled_histories_is_exact(cora, kind, rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = MODELS[kind](cora.num_nodes, cora.num_features, 7).eval()
    halo = model.halo(cora.edge_index)
    full = model.inference(cora.x, halo, 1000)
    nodes = torch.from_numpy(rng.choice(cora.num_nodes, 300, replace=False))
    hb = halo(nodes)
    assert hb.n_id.shape[0] > hb.num_exact  # the batch has a halo
    with torch.no_grad():
        out = model(cora.x[hb.n_id], hb.edge_index, hb.edge_weight, n_id=hb.n_id, num_exact=hb.num_exact)
    assert float((out[:hb.num_exact] - full[nodes]).abs().max()) < TOL
    # num_outputs: the last layer over the first k rows' in-edges only gives those rows the same values
    k = int(rng.integers(1, hb.num_exact // 4))  # few enough outputs that their in-edges miss some rows
    with torch.no_grad():
        few = model(cora.x[hb.n_id], hb.edge_index, hb.edge_weight, n_id=hb.n_id, num_exact=hb.num_exact,
                    num_outputs=k)
    assert float((few[:k] - out[:k]).abs().max()) < 1e-6
    if kind == "gcnii16":  # per-row state (x0): every row goes through the last layer, only the edges are cut
        assert few.shape == out.shape and float((few[k:hb.num_exact] - out[k:hb.num_exact]).abs().max()) > 1e-3
    else:  # only the rows the outputs' in-edges touch
        assert k <= few.shape[0] < out.shape[0]
    # The pulled rows matter: with zeroed histories the same batch is not exact.
    for layer in range(model.num_layers - 1):
        model.histories.layer(layer).zero_()
    with torch.no_grad():
        out = model(cora.x[hb.n_id], hb.edge_index, hb.edge_weight, n_id=hb.n_id, num_exact=hb.num_exact)
    assert float((out[:hb.num_exact] - full[nodes]).abs().max()) > 1e-3


@pytest.mark.parametrize("kind", ["gcn", "gcnii16"])
def test_whole_graph_batch_step_equals_full_batch_step(cora, kind, rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    a = MODELS[kind](cora.num_nodes, cora.num_features, 7)
    a.dropout = 0.0  # identical computations, no random masks
    b = copy.deepcopy(a)
    assert b.histories is not a.histories
    halo = a.halo(cora.edge_index)
    ei, ew = halo.full()
    train = cora.train_mask.nonzero().view(-1)
    # Plain SGD: its step is linear in the gradient, so the two summation orders' rounding stays at rounding size
    # (Adam divides by sqrt(v): gradients near zero that differ by rounding became steps of up to lr, 1e-5 apart).
    opt_a = torch.optim.SGD(a.parameters(), lr=0.5, weight_decay=5e-4)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.5, weight_decay=5e-4)
    for _ in range(2):
        opt_a.zero_grad()
        loss_a = F.cross_entropy(a(cora.x, ei, ew)[train], cora.y[train])
        loss_a.backward()
        opt_a.step()
        # The batch holds every node, in random order, outputs (train nodes) first.
        rest = np.setdiff1d(np.arange(cora.num_nodes), train.numpy())
        order = torch.from_numpy(np.concatenate([rng.permutation(train.numpy()), rng.permutation(rest)]))
        hb = halo(order)
        assert hb.num_exact == cora.num_nodes == hb.n_id.shape[0]
        opt_b.zero_grad()
        out = b(cora.x[hb.n_id], hb.edge_index, hb.edge_weight, n_id=hb.n_id, num_exact=hb.num_exact)
        loss_b = F.cross_entropy(out[:train.numel()], cora.y[hb.n_id[:train.numel()]])
        loss_b.backward()
        opt_b.step()
        assert abs(loss_a.item() - loss_b.item()) < 1e-5
        for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
            assert (pa - pb).abs().max().item() < 1e-5, name
    # Both pushed the same (full-graph) hidden embeddings of the last step.
    for layer in range(a.num_layers - 1):
        assert float((a.histories.layer(layer) - b.histories.layer(layer)).abs().max()) < TOL


def test_halo_batches_hold_every_in_edge(cora, rng):
    halo = inn.Halo(cora.edge_index, cora.num_nodes, add_self_loops=True, norm="sym")
    ei, ew = halo.full()
    deg = torch.bincount(ei[1], minlength=cora.num_nodes)
    nodes = torch.from_numpy(rng.choice(cora.num_nodes, 200, replace=False))
    hb = halo(nodes)
    b = hb.num_exact
    assert hb.n_id[:b].tolist() == nodes.tolist()
    assert not set(hb.n_id[b:].tolist()) & set(nodes.tolist())
    assert hb.edge_index.shape[1] == int(deg[nodes].sum())
    assert int(hb.edge_index[1].max()) < b
    # every edge (global src, global dst, weight) is an edge of the full graph with the same weight
    full = {(int(s), int(t)): float(w) for s, t, w in zip(ei[0], ei[1], ew)}
    for s, t, w in zip(hb.n_id[hb.edge_index[0]], hb.n_id[hb.edge_index[1]], hb.edge_weight):
        assert full[(int(s), int(t))] == float(w)
    # the halo is exactly the out-of-batch in-neighbours
    want = set(ei[0][torch.isin(ei[1], nodes)].tolist()) - set(nodes.tolist())
    assert set(hb.n_id[b:].tolist()) == want


def test_halo_loader_over_ibmb_batches(cora):
    loader = ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 32, progress=False)
    halo = inn.Halo(cora.edge_index, cora.num_nodes, add_self_loops=True, norm="sym")
    seen = 0
    for batch, hb in zip(loader, inn.HaloLoader(loader, halo, cora)):
        assert hb.num_exact == batch.n_id.shape[0] and hb.batch_size == batch.batch_size
        assert torch.equal(hb.n_id[:hb.num_exact], batch.n_id)
        assert torch.equal(hb.x, cora.x[hb.n_id]) and torch.equal(hb.y, cora.y[hb.n_id])
        seen += hb.batch_size
    assert seen == int(cora.train_mask.sum())


def test_bad_input(cora):
    n, f = cora.num_nodes, cora.num_features
    with pytest.raises(ValueError, match="dims"):
        inn.GCN(n, f, 16, 7, histories=ibmb.HistoryStore(n, [8]))
    with pytest.raises(ValueError, match="num_nodes"):
        inn.GCN(n, f, 16, 7, histories=ibmb.HistoryStore(n + 1, [16]))
    with pytest.raises(TypeError, match="dtype"):
        inn.GCN(n, f, 16, 7, histories=ibmb.HistoryStore(n, [16], torch.float16), history_dtype=torch.float32)
    with pytest.raises(TypeError, match="HistoryStore"):
        inn.GCN(n, f, 16, 7, histories=torch.zeros(n, 16))
    model = inn.GCN(n, f, 16, 7)
    halo = model.halo(cora.edge_index)
    hb = halo(torch.arange(100))
    x = cora.x[hb.n_id]
    with pytest.raises(IndexError, match="n_id"):
        model(x, hb.edge_index, hb.edge_weight, n_id=hb.n_id + n, num_exact=hb.num_exact)
    with pytest.raises(ValueError, match="rows"):
        model(x[:-1], hb.edge_index[:, :10], hb.edge_weight[:10], n_id=hb.n_id, num_exact=hb.num_exact)
    with pytest.raises(ValueError, match="num_exact"):
        model(x, hb.edge_index, hb.edge_weight, n_id=hb.n_id, num_exact=hb.n_id.shape[0] + 1)
    with pytest.raises(ValueError, match="pass n_id"):
        model(x, hb.edge_index, hb.edge_weight)
    with pytest.raises(IndexError, match="edge_index"):
        model(x, hb.edge_index + x.shape[0], hb.edge_weight, n_id=hb.n_id, num_exact=hb.num_exact)
    with pytest.raises(ValueError, match="edge_weight"):
        model(x, hb.edge_index, None, n_id=hb.n_id, num_exact=hb.num_exact)
    # A repeated exact id: refused before anything is pushed.
    before = model.histories.layer(0).clone()
    dup = hb.n_id.clone()
    dup[1] = dup[0]
    with pytest.raises(ValueError, match="repeated|distinct"):
        model(x, hb.edge_index, hb.edge_weight, n_id=dup, num_exact=hb.num_exact)
    assert torch.equal(model.histories.layer(0), before)
    with pytest.raises(IndexError):
        halo(torch.tensor([0, n]))
    with pytest.raises(ValueError, match="repeated"):
        halo(torch.tensor([3, 4, 3]))
    with pytest.raises(ValueError, match="norm"):
        inn.Halo(cora.edge_index, n, norm="bad")
    with pytest.raises(ValueError, match="add_self_loops"):
        model.inference(cora.x, inn.Halo(cora.edge_index, n), 1000)
    with pytest.raises(ValueError, match="every node"):
        model.inference(cora.x, halo, batches=halo.batches(500, nodes=np.arange(n - 1)))
    with pytest.raises(ValueError, match="rows"):
        model.inference(cora.x[:-1], halo)
