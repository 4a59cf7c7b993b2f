"""Autograd through gather and the loaders (issue 12, finding 7).

``ibmb.gather`` and both loaders used to detach ``x``: learnable node
embeddings given as ``data.x`` silently never trained. Gather now has a
backward (a scatter-add into ``x``'s shape), and loaders gather a ``x`` that
requires grad per batch, in the consumer's thread, so batches carry the
graph.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

import ibmb


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_gather_backward_is_a_scatter_add(dtype, rng):
    x = torch.from_numpy(rng.standard_normal((20, 3, 2)).astype(np.float32)).to(dtype).requires_grad_()
    idx = torch.from_numpy(rng.integers(0, 20, 50))  # with repeats
    out = ibmb.gather(x, idx)
    assert out.requires_grad and out.grad_fn is not None
    assert torch.equal(out.detach(), x.detach()[idx])
    g = torch.from_numpy(rng.standard_normal((50, 3, 2)).astype(np.float32)).to(dtype)
    out.backward(g)
    want = torch.zeros(20, 3, 2, dtype=torch.float64).index_add_(0, idx, g.double())
    tol = 1e-5 if dtype == torch.float32 else 5e-2
    assert x.grad.dtype == dtype and torch.allclose(x.grad.double(), want, atol=tol, rtol=tol)


def test_gather_gradcheck():
    x = torch.randn(7, 4, dtype=torch.float32, requires_grad=True)
    idx = torch.tensor([6, 0, 0, 3, 6, 6])
    # float32 (the engine gathers float32/16/bf16): finite differences need a wide step and tolerance.
    with pytest.warns(UserWarning, match="double"):
        assert torch.autograd.gradcheck(lambda t: ibmb.gather(t, idx), (x,), eps=1e-2, atol=1e-3, rtol=1e-3)
    with pytest.warns(UserWarning, match="double"):
        assert torch.autograd.gradgradcheck(lambda t: ibmb.gather(t, idx), (x,), eps=1e-2, atol=1e-3, rtol=1e-3)


def test_gather_without_grad_and_out():
    x = torch.randn(5, 2, requires_grad=True)
    with torch.no_grad():
        assert ibmb.gather(x, [1, 2]).grad_fn is None
    assert ibmb.gather(x.detach(), [1, 2]).grad_fn is None
    with pytest.raises(ValueError, match="requires grad"):
        ibmb.gather(x, [1, 2], out=torch.empty(2, 2))
    y = ibmb.gather(x, np.array([4]))  # numpy index for a tensor x
    y.sum().backward()
    assert x.grad[4].tolist() == [1.0, 1.0] and x.grad[:4].abs().sum() == 0


@pytest.mark.skipif(not torch.cuda.is_available() or ibmb.cuda_status() != "",
                    reason="needs a CUDA device (torch and the engine)")
def test_gather_backward_cuda(rng):
    x = torch.randn(30, 8, device="cuda", requires_grad=True)
    idx = torch.from_numpy(rng.integers(0, 30, 64)).cuda()
    out = ibmb.gather(x, idx)
    out.backward(torch.ones_like(out))
    assert torch.equal(x.grad.cpu(), torch.zeros(30, 8).index_add_(0, idx.cpu(), torch.ones(64, 8)))


def _embedding_data(cora):
    emb = torch.nn.Embedding(cora.num_nodes, 8)
    data = Data(x=emb.weight, edge_index=cora.edge_index, y=cora.y, num_nodes=cora.num_nodes)
    return emb, data


@pytest.mark.parametrize("kind,batch_size,prefetch", [("node", 1, 0), ("node", 1, 2), ("node", 3, 2), ("batch", 2, 1)])
def test_loader_trains_learnable_embeddings(cora, kind, batch_size, prefetch):
    emb, data = _embedding_data(cora)
    if kind == "node":
        loader = ibmb.IBMBNodeLoader(data, "order", cora.train_mask, 8, 32, batch_size=batch_size, prefetch=prefetch)
    else:
        loader = ibmb.IBMBBatchLoader(data, "order", 6, cora.train_mask, batch_size=batch_size, prefetch=prefetch)
    assert not loader.stats()["features_in_arena"]
    opt = torch.optim.SGD(emb.parameters(), lr=0.5)
    lin = torch.nn.Linear(8, 7)
    for step, batch in enumerate(loader):
        assert batch.x.requires_grad and batch.x.grad_fn is not None
        before = emb.weight.detach().clone()
        assert torch.equal(batch.x.detach(), before[batch.n_id])  # gathered after the last step
        opt.zero_grad()
        out = lin(batch.x)[:batch.batch_size]
        torch.nn.functional.cross_entropy(out, batch.y[:batch.batch_size]).backward()
        grad = emb.weight.grad
        outside = torch.ones(cora.num_nodes, dtype=torch.bool)
        outside[batch.n_id] = False
        assert grad[outside].abs().sum() == 0 and grad[batch.n_id[:batch.batch_size]].abs().sum() > 0
        opt.step()
        changed = (emb.weight.detach() != before).any(dim=1)
        assert changed.any() and not changed[outside].any()
        if step == 2:
            break


def test_loader_store_features_with_grad_is_refused(cora):
    _, data = _embedding_data(cora)
    with pytest.raises(ValueError, match="requires grad"):
        ibmb.IBMBNodeLoader(data, "rand", cora.train_mask, 8, 32, store_features=True)


def test_loaded_loader_gathers_learnable_x(cora, tmp_path):
    path = tmp_path / "b.ibmb"
    ibmb.IBMBNodeLoader(cora, None, cora.train_mask, 8, 64, store_features=True).save(path)
    emb, data = _embedding_data(cora)
    loader = ibmb.IBMBNodeLoader.load(path, data, batch_order=None)
    assert loader.stats()["features_in_arena"]  # the file's x is not the parameter: it must not be used
    batch = next(iter(loader))
    assert batch.x.grad_fn is not None and torch.equal(batch.x.detach(), emb.weight.detach()[batch.n_id])
