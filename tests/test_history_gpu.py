"""GPU placements of ibmb.HistoryStore (device="cuda", pinned=True).

This machine has no CUDA device, so these tests check that the GPU paths
fail early with a clear ibmb.UnavailableError (or ValueError for a wrong
request) and leave the host store untouched. The engine's device and
page-locked stores are tested bit for bit on an emulated CUDA driver in Go
(gopkg/history, bindings); benchmarks/device_check.py checks them on a
lent GPU. With a CUDA device the round-trip test below runs instead.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import ibmb
from ibmb._native import call, engine
from ibmb.history import HistoryStore

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")


@no_cuda
@pytest.mark.parametrize("kwargs", [{"device": "cuda"}, {"device": "cuda:0"}, {"device": torch.device("cuda", 0)},
                                    {"pinned": True}])
def test_gpu_store_without_cuda_raises_unavailable(kwargs):
    with pytest.raises(ibmb.UnavailableError, match=r"needs a CUDA device.*torch.cuda.is_available\(\) is False"):
        HistoryStore(10, [4], **kwargs)


@no_cuda
@pytest.mark.parametrize("placement", [1, 2])
def test_engine_gpu_placement_without_driver_is_unavailable(placement):
    dims = np.array([4], dtype=np.int64)
    with pytest.raises(ibmb.UnavailableError, match="cuda unavailable"):
        call(engine.HistoryNewOn, 10, dims.ctypes.data, 1, 1, placement, 0)


def test_gpu_store_bad_requests_raise_value_error():
    with pytest.raises(ValueError, match="not both"):
        HistoryStore(10, [4], device="cuda", pinned=True)
    for bad in ("meta", "tpu", "", "cuda:-1"):  # torch's RuntimeError for the last three once escaped
        with pytest.raises(ValueError, match="'cpu' or a CUDA device"):
            HistoryStore(10, [4], device=bad)
    for bad in ("no", 0, None):  # "no" once meant a page-locked store
        with pytest.raises(TypeError, match="pinned must be True or False"):
            HistoryStore(10, [4], pinned=bad)
    dims = np.array([4], dtype=np.int64)
    with pytest.raises(ValueError, match="unknown placement"):
        call(engine.HistoryNewOn, 10, dims.ctypes.data, 1, 1, 7, 0)


def test_host_store_is_unchanged_and_has_no_async_pull():
    h = HistoryStore(6, [2], device="cpu")
    assert h.placement == 0 and h.device is None and "pinned" not in repr(h)
    h.push(0, torch.tensor([[1.0, 2.0]]), torch.tensor([5]))
    assert h.pull(0, [5, 0]).tolist() == [[1.0, 2.0], [0.0, 0.0]]
    with pytest.raises(ValueError, match="pinned=True"):
        h.pull_async(0, [1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_gpu_stores_bit_exact_against_host_store(dtype):  # pragma: no cover (no GPU here)
    gen = torch.Generator().manual_seed(0)
    host, dev, pin = (HistoryStore(50, [3, 16], dtype), HistoryStore(50, [3, 16], dtype, device="cuda"),
                      HistoryStore(50, [3, 16], dtype, pinned=True))
    for lay, d in enumerate((3, 16)):
        ids = torch.randperm(50, generator=gen)[:30]
        x = torch.randn(30, d, generator=gen).to(dtype)
        host.push(lay, x, ids)
        dev.push(lay, x.cuda(), ids.cuda())
        pin.push(lay, x, ids)
        q = torch.cat([torch.arange(50), torch.tensor([7, 7, 0])])
        want = host.pull(lay, q)
        assert torch.equal(dev.pull(lay, q.cuda()).cpu().view(torch.uint8), want.view(torch.uint8))
        assert torch.equal(pin.pull_async(lay, q).wait().cpu().view(torch.uint8), want.view(torch.uint8))
        assert torch.equal(copy.deepcopy(dev).pull(lay, q.cuda()).cpu().view(torch.uint8), want.view(torch.uint8))
        with pytest.raises(IndexError):
            dev.pull(lay, torch.tensor([50], device="cuda"))
        with pytest.raises(ValueError):
            dev.push(lay, x[:2].cuda(), torch.tensor([1, 1], device="cuda"))
