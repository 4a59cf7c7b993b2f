"""HistoryGNN's experimental ``history_momentum`` (GraphFM in-batch momentum).

``beta = 1`` (and the default ``None``) is today's plain push, bit for bit;
``beta = 0.5`` writes ``(1 - beta) * H + beta * h`` into the exact rows'
histories and leaves every other row and the batch's outputs as the plain
push does; layer-wise inference pushes plainly whatever ``beta``; bad values
and the ``--history-momentum`` flag's range are refused.
"""
from __future__ import annotations

import argparse
import copy

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from torch_geometric.data import Data  # noqa: E402

import ibmb.nn as inn  # noqa: E402
from ibmb.train.config import Config, add_flags  # noqa: E402

N, F, C = 300, 12, 5


@pytest.fixture(scope="module")
def graph() -> tuple:
    g = torch.Generator().manual_seed(3)
    src = torch.randint(0, N, (2400,), generator=g)
    dst = torch.randint(0, N, (2400,), generator=g)
    keep = src != dst
    ei = torch.stack([src[keep], dst[keep]])
    x = torch.randn(N, F, generator=g)
    return x, ei


def _models(beta, x: torch.Tensor) -> tuple:
    """A plain 3-layer GCN and a copy with ``history_momentum=beta``: same
    weights, the same random (stale) histories."""
    torch.manual_seed(0)
    plain = inn.GCN(N, F, 16, C, num_layers=3, dropout=0.0)
    other = inn.GCN(N, F, 16, C, num_layers=3, dropout=0.0, history_momentum=beta)
    other.load_state_dict(plain.state_dict())
    g = torch.Generator().manual_seed(11)
    for layer in range(plain.histories.num_layers):
        rand = torch.randn(plain.histories.layer(layer).shape, generator=g)
        plain.histories.layer(layer).copy_(rand)
        other.histories.layer(layer).copy_(rand)
    return plain, other


def _batch(graph: tuple):
    """60 random nodes with their halo, materialized as a PyG Data."""
    x, ei = graph
    halo = inn.Halo(ei, N, add_self_loops=inn.GCN.add_self_loops, norm=inn.GCN.norm)
    nodes = torch.randperm(N, generator=torch.Generator().manual_seed(5))[:60]
    src = Data(x=x, y=torch.zeros(N, dtype=torch.long), num_nodes=N)
    return halo, halo.materialize(halo(nodes), src)


def _run(model: inn.HistoryGNN, b) -> torch.Tensor:
    return model(b.x, b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=int(b.num_exact))


@pytest.mark.parametrize("beta", [None, 1.0, 1])
def test_beta_one_is_plain_push(graph, beta):
    plain, other = _models(beta, graph[0])
    assert other.history_momentum is None
    _, b = _batch(graph)
    out_p, out_o = _run(plain, b), _run(other, b)
    assert torch.equal(out_p, out_o)
    for layer in range(plain.histories.num_layers):
        assert torch.equal(plain.histories.layer(layer), other.histories.layer(layer))


def test_beta_half_blends(graph):
    plain, mom = _models(0.5, graph[0])
    before = [mom.histories.layer(i).clone() for i in range(mom.histories.num_layers)]
    _, b = _batch(graph)
    out_p, out_m = _run(plain, b), _run(mom, b)
    # The batch's own forward uses its fresh rows either way: outputs equal.
    assert torch.equal(out_p, out_m)
    exact = b.n_id[:int(b.num_exact)]
    rest = torch.ones(N, dtype=torch.bool)
    rest[exact] = False
    for i in range(mom.histories.num_layers):
        fresh = plain.histories.layer(i)[exact]  # what the plain push wrote
        assert not torch.allclose(fresh, before[i][exact])  # the histories were stale: the blend is visible
        want = 0.5 * before[i][exact] + 0.5 * fresh
        torch.testing.assert_close(mom.histories.layer(i)[exact], want, rtol=0, atol=1e-6)
        assert torch.equal(mom.histories.layer(i)[rest], before[i][rest])


def test_inference_pushes_plainly(graph):
    x, ei = graph
    plain, mom = _models(0.3, x)
    halo = plain.halo(ei)
    out_p, out_m = plain.inference(x, halo, 128), mom.inference(x, halo, 128)
    assert torch.equal(out_p, out_m)
    for i in range(plain.histories.num_layers):
        assert torch.equal(plain.histories.layer(i), mom.histories.layer(i))
    copied = copy.deepcopy(mom)
    assert copied.history_momentum == 0.3


@pytest.mark.parametrize("bad,exc", [(0.0, ValueError), (-0.5, ValueError), (1.5, ValueError),
                                     (float("nan"), ValueError), ("0.5", TypeError), (True, TypeError)])
def test_bad_momentum(bad, exc):
    with pytest.raises(exc):
        inn.GCN(N, F, 8, C, num_layers=2, history_momentum=bad)


def test_flag():
    p = argparse.ArgumentParser()
    add_flags(p, Config, only=["history_momentum"])
    assert p.parse_args([]).history_momentum == 1.0
    assert p.parse_args(["--history-momentum", "0.5"]).history_momentum == 0.5
    for bad in ("0", "1.01", "-1", "x"):
        with pytest.raises(SystemExit):
            p.parse_args(["--history-momentum", bad])


def test_history_methods_pass_the_flag_on():
    from ibmb import data as D
    from ibmb import train as T
    from ibmb.train import methods

    tiny = D.load("default", num_nodes=300, num_features=8, num_classes=3, homophily=0.8, separation=1.0)
    for beta, want in ((1.0, None), (0.5, 0.5)):
        cfg = T.Config(epochs=1, num_nodes_per_batch=32, hidden=8, progress=False, history_momentum=beta)
        m = methods.create("ibmb-node-hist", tiny, cfg)
        m.prepare()
        assert m.build_model(tiny.num_features, 3).history_momentum == want
