"""The histories part of benchmarks/device_check.py (issue 14): device and
page-locked history stores bit-exact against the host store, and a timed
pull/push beside torch's index ops on the same device. Conventions: see
device_parts.py.
"""
from __future__ import annotations

from typing import Any

from device_parts import Ctx, _median_s, _result, _same_bits, _torch_gpu


def _raises(exc: type, fn: Any) -> bool:
    try:
        fn()
    except exc:
        return True
    return False


def _host_reference(ctx: Ctx, cpu: dict) -> None:
    """CPU reference: the host store equals torch's index ops for every dtype; without CUDA the GPU stores
    refuse with a clear UnavailableError."""
    import torch

    import ibmb

    g = torch.Generator().manual_seed(1)
    for dt in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        h = ibmb.HistoryStore(500, [7, 64], dt)
        name = str(dt).split(".")[1]
        ok = True
        for lay, d in enumerate(h.dims):
            ids = torch.randperm(500, generator=g)[:300]
            x = torch.randn(300, d, generator=g).to(dt)
            ref = torch.zeros(500, d, dtype=dt).index_copy_(0, ids, x)
            h.push(lay, x, ids)
            q = torch.randint(0, 500, (400,), generator=g)
            ok &= _same_bits(h.pull(lay, q), ref.index_select(0, q))
        cpu["checks"][f"host_store_equals_index_ops_{name}"] = ok
    if not torch.cuda.is_available():
        for kw in ({"device": "cuda"}, {"pinned": True}):
            cpu["checks"][f"no_cuda_{list(kw)[0]}_raises_unavailable"] = _raises(
                ibmb.UnavailableError, lambda kw=kw: ibmb.HistoryStore(10, [4], **kw))


def _bit_exact(checks: dict) -> None:
    """Device and pinned stores hold and pull exactly what the host store does (4 dtypes, 3 widths, repeated
    pull ids), and refuse bad ids."""
    import torch

    import ibmb

    g = torch.Generator().manual_seed(2)
    n = 1000
    for dt in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        name = str(dt).split(".")[1]
        dims = [3, 64, 129]
        host = ibmb.HistoryStore(n, dims, dt)
        dev = ibmb.HistoryStore(n, dims, dt, device="cuda")
        pin = ibmb.HistoryStore(n, dims, dt, pinned=True)
        ok_dev = ok_pin = True
        for lay, d in enumerate(dims):
            for _ in range(2):
                ids = torch.randperm(n, generator=g)[:600]
                x = torch.randn(600, d, generator=g).to(dt)
                host.push(lay, x, ids)
                dev.push(lay, x.cuda(), ids.cuda())
                pin.push(lay, x, ids)
            q = torch.cat([torch.randint(0, n, (700,), generator=g), torch.tensor([0, n - 1, 5, 5])])
            want = host.pull(lay, q)
            ok_dev &= _same_bits(dev.pull(lay, q.cuda()).cpu(), want)
            ok_pin &= _same_bits(pin.pull(lay, q), want)
            ok_pin &= _same_bits(pin.pull_async(lay, q).wait().cpu(), want)
        checks[f"device_store_bit_exact_{name}"] = ok_dev
        checks[f"pinned_store_bit_exact_{name}"] = ok_pin
    dev = ibmb.HistoryStore(100, [8], device="cuda")
    pin = ibmb.HistoryStore(100, [8], pinned=True)
    checks["device_pull_out_of_range_raises_index_error"] = _raises(
        IndexError, lambda: dev.pull(0, torch.tensor([3, 100], device="cuda")))
    checks["device_push_repeated_ids_raises_value_error"] = _raises(
        ValueError, lambda: dev.push(0, torch.ones(2, 8, device="cuda"), torch.tensor([4, 4], device="cuda")))
    checks["pull_async_out_of_range_raises_index_error"] = _raises(IndexError, lambda: pin.pull_async(0, [100]))


def _timings(ctx: Ctx, fig: dict) -> None:
    """Pull/push of M rows of an [N, d] float32 store: device store beside torch index_select/index_copy_ on
    the same device, pinned pull_async beside host pull + .cuda()."""
    import torch

    import ibmb

    n, d, m = ctx.size((1_000_000, 256, 200_000), (1000, 8, 100))
    fig.update(rows=n, width=d, moved=m, dtype="float32")
    g = torch.Generator().manual_seed(3)
    ids = torch.randperm(n, generator=g)[:m]
    x = torch.randn(m, d, generator=g)
    xg, ig = x.cuda(), ids.cuda()
    nbytes = 2 * m * d * 4 + m * 8  # rows read and written, plus the ids
    dev = ibmb.HistoryStore(n, [d], device="cuda")
    dev.push(0, xg, ig)
    out = torch.empty_like(xg)
    fig["device_pull_gbps"] = nbytes / _median_s(lambda: dev.pull(0, ig, out=out), reps=10, warm=2, cuda=True) / 1e9
    fig["device_push_gbps"] = nbytes / _median_s(lambda: dev.push(0, xg, ig), reps=10, warm=2, cuda=True) / 1e9
    table = torch.zeros(n, d, device="cuda")
    fig["torch_index_select_gbps"] = nbytes / _median_s(lambda: torch.index_select(table, 0, ig, out=out), reps=10,
                                                        warm=2, cuda=True) / 1e9
    fig["torch_index_copy_gbps"] = nbytes / _median_s(lambda: table.index_copy_(0, ig, xg), reps=10, warm=2,
                                                      cuda=True) / 1e9
    fig["device_store_mib"] = dev.nbytes / 2**20
    dev = table = None
    torch.cuda.empty_cache()
    pin = ibmb.HistoryStore(n, [d], pinned=True)
    pin.push(0, x, ids)
    fig["pinned_pull_async_s"] = _median_s(lambda: pin.pull_async(0, ids, out=out).wait(), reps=5, warm=1)
    host = ibmb.HistoryStore(n, [d])
    host.push(0, x, ids)
    buf = torch.empty(m, d)
    fig["host_pull_then_cuda_s"] = _median_s(lambda: out.copy_(host.pull(0, ids, out=buf)), reps=5, warm=1)
    fig["pinned_store_mib"] = pin.nbytes / 2**20


def part_histories(ctx: Ctx) -> dict:
    """Device and page-locked history stores (issue 14) against the host store, and their pull/push speed."""
    cpu: dict = {"checks": {}}
    _host_reference(ctx, cpu)
    why = "" if ctx.dry else _torch_gpu()
    checks: dict = {}
    fig: dict = {}
    if not (ctx.dry or why):
        _bit_exact(checks)
        _timings(ctx, fig)
    return _result(checks, fig, cpu, ctx, why)
