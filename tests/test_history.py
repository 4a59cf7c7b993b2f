"""ibmb.HistoryStore and ibmb.history.scatter (issue 14, item 1): pulls and
pushes are bit-exact against torch's index ops for every dtype and row width,
repeated push ids are refused, bad input raises clear exceptions and leaves
the store unchanged, and stores free their memory."""
from __future__ import annotations

import gc
import os

import numpy as np
import pytest
import torch

import ibmb
from ibmb._native import engine
from ibmb.history import HistoryStore, scatter

DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64]
WIDTHS = [1, 3, 7, 16, 33, 128, 257]
_BITS = {2: torch.int16, 4: torch.int32, 8: torch.int64}
MiB = 1 << 20


def random_bits(shape: tuple, dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    """Random bit patterns of ``dtype`` (NaN payloads, infinities, subnormals
    and signed zeros included), so any conversion would show."""
    it = _BITS[dtype.itemsize]
    info = torch.iinfo(it)
    return torch.randint(info.min, info.max, shape, generator=gen, dtype=torch.int64).to(it).view(dtype)


def bits(t: torch.Tensor) -> torch.Tensor:
    return t.view(_BITS[t.element_size()])


def distinct(n: int, m: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randperm(n, generator=gen)[:m]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_push_pull_bit_exact_against_index_ops(dtype):
    gen = torch.Generator().manual_seed(1)
    n = 500
    store = HistoryStore(n, WIDTHS, dtype=dtype)
    assert store.num_layers == len(WIDTHS) and store.dtype == dtype
    assert store.nbytes == n * sum(WIDTHS) * dtype.itemsize
    for layer, d in enumerate(WIDTHS):
        ref = torch.zeros(n, d, dtype=dtype)
        for _ in range(3):
            ids = distinct(n, int(torch.randint(1, n, (1,), generator=gen)), gen)
            x = random_bits((ids.numel(), d), dtype, gen)
            store.push(layer, x, ids)
            ref.index_copy_(0, ids, x)
            pull_ids = torch.randint(0, n, (2 * n,), generator=gen)  # repeats allowed
            got = store.pull(layer, pull_ids)
            assert got.dtype == dtype and got.shape == (2 * n, d)
            assert torch.equal(bits(got), bits(torch.index_select(ref, 0, pull_ids)))
        assert torch.equal(bits(store.layer(layer)), bits(ref))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_scatter_matches_index_copy(dtype):
    gen = torch.Generator().manual_seed(2)
    for d in WIDTHS:
        for n, m in [(1, 1), (40, 17), (3000, 3000), (20000, 9000)]:
            dst = random_bits((n, d), dtype, gen)
            ref = dst.clone()
            ids = distinct(n, m, gen)
            src = random_bits((m, d), dtype, gen)
            assert scatter(dst, ids, src) is dst
            ref.index_copy_(0, ids, src)
            assert torch.equal(bits(dst), bits(ref)), (d, n, m)


def test_scatter_multidim_rows_and_numpy_ids():
    dst = torch.zeros(6, 2, 3)
    src = torch.arange(12, dtype=torch.float32).reshape(2, 2, 3)
    scatter(dst, np.array([5, 0]), src)
    assert torch.equal(dst[5], src[0]) and torch.equal(dst[0], src[1]) and float(dst[1:5].abs().sum()) == 0


def test_pull_into_out_and_list_ids():
    store = HistoryStore(10, [4])
    store.push(0, torch.ones(2, 4), [3, 8])
    out = torch.full((3, 4), 7.0)
    assert store.pull(0, [8, 0, 3], out=out) is out
    assert out.tolist() == [[1.0] * 4, [0.0] * 4, [1.0] * 4]
    assert store.pull(0, []).shape == (0, 4)
    store.push(0, torch.empty(0, 4), [])


def test_repeated_push_ids_are_refused_and_nothing_is_written():
    store = HistoryStore(100, [8])
    before = store.layer(0).clone()
    x = torch.randn(4, 8)
    with pytest.raises(ValueError, match=r"index 7 occurs at positions 1 and 3; ids must be distinct"):
        store.push(0, x, torch.tensor([2, 7, 9, 7]))
    assert torch.equal(store.layer(0), before)
    dst = torch.zeros(10, 3)
    with pytest.raises(ValueError, match="ids must be distinct"):
        scatter(dst, torch.tensor([1, 1]), torch.ones(2, 3))
    assert float(dst.abs().sum()) == 0
    with pytest.raises(ValueError, match="repeated"):
        scatter(torch.zeros(10, 0), torch.tensor([1, 1]), torch.zeros(2, 0))


def test_bad_input_raises_clear_exceptions_and_changes_nothing():
    store = HistoryStore(50, [6, 4], dtype=torch.float16)
    store.push(0, torch.ones(50, 6, dtype=torch.float16), torch.arange(50))
    before = store.layer(0).clone()
    x = torch.zeros(3, 6, dtype=torch.float16)
    ids = torch.tensor([1, 2, 3])
    wide = torch.zeros(3, 12, dtype=torch.float16)
    cases = [
        (IndexError, "index 50 at position 2 is out of range for 50 rows", lambda: store.push(0, x, [0, 1, 50])),
        (IndexError, "index -1 at position 0", lambda: store.push(0, x, [-1, 1, 2])),
        (IndexError, "index 99 at position 1", lambda: store.pull(0, [0, 99])),
        (TypeError, "dtype torch.float16 .*got torch.float32", lambda: store.push(0, x.float(), ids)),
        (ValueError, r"shape \[M, 6\], got \(3, 4\)", lambda: store.push(0, x[:, :4], ids)),
        (ValueError, "must be contiguous", lambda: store.push(0, wide[:, ::2], ids)),
        (ValueError, "must be contiguous", lambda: store.push(0, torch.zeros(6, 3, dtype=torch.float16).t(), ids)),
        (ValueError, "x has 3 rows but n_id has 2 ids", lambda: store.push(0, x, [1, 2])),
        (ValueError, "layer must be <= 1", lambda: store.push(2, x, ids)),
        (ValueError, "layer must be >= 0", lambda: store.pull(-1, ids)),
        (TypeError, "n_id must be an integer tensor", lambda: store.pull(0, torch.tensor([1.0]))),
        (ValueError, "n_id must be 1-D", lambda: store.pull(0, torch.zeros(2, 2, dtype=torch.long))),
        (ValueError, r"out must have shape \[3, 6\]", lambda: store.pull(0, ids, out=torch.empty(2, 6, dtype=torch.float16))),
        (TypeError, "out must have dtype", lambda: store.pull(0, ids, out=torch.empty(3, 6))),
        (TypeError, "x must be a torch tensor", lambda: store.push(0, np.zeros((3, 6), np.float16), ids)),
        (TypeError, "src must have dtype", lambda: scatter(torch.zeros(5, 2), [0], torch.zeros(1, 2, dtype=torch.float64))),
        (ValueError, "src must have shape", lambda: scatter(torch.zeros(5, 2), [0, 1], torch.zeros(1, 2))),
        (IndexError, "index 5 at position 0", lambda: scatter(torch.zeros(5, 2), [5], torch.zeros(1, 2))),
        (ValueError, "src must be contiguous", lambda: scatter(torch.zeros(5, 2), [0, 1], torch.zeros(2, 4)[:, ::2])),
        (ValueError, "dst must be contiguous", lambda: scatter(torch.zeros(2, 5).t(), [0], torch.zeros(1, 2))),
        (ValueError, "same CPU or CUDA device", lambda: scatter(torch.zeros(5, 2, device="meta"), [0], torch.zeros(1, 2))),
        (TypeError, "dtype must be", lambda: HistoryStore(5, [2], dtype=torch.int32)),
        (ValueError, "num_nodes must be >= 1", lambda: HistoryStore(0, [2])),
        (ValueError, r"dims\[1\] must be >= 1", lambda: HistoryStore(5, [2, 0])),
        (ValueError, "dims is empty", lambda: HistoryStore(5, [])),
        (TypeError, "dims must be a sequence", lambda: HistoryStore(5, 3)),
        (MemoryError, "history of 2 layers", lambda: HistoryStore(1 << 40, [1024, 1024])),
    ]
    for exc, msg, fn in cases:
        with pytest.raises(exc, match=msg):
            fn()
        assert torch.equal(store.layer(0), before), msg
    out = torch.full((2, 6), 3.0, dtype=torch.float16)
    with pytest.raises(IndexError):
        store.pull(0, [0, 50], out=out)
    assert float(out.float().sum()) == 36.0  # untouched


def test_push_detaches_and_layer_view_writes_through():
    store = HistoryStore(8, [3])
    x = torch.randn(2, 3, requires_grad=True)
    store.push(0, x, [6, 1])
    view = store.layer(0)
    assert torch.equal(view[6], x.detach()[0])
    view[0] = 5.0
    assert store.pull(0, [0]).tolist() == [[5.0, 5.0, 5.0]]


def rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_build_and_drop_loop_returns_memory():
    def filled() -> HistoryStore:
        s = HistoryStore(100_000, [128, 128])  # 100 MiB
        ones = torch.ones(100_000, 128)
        s.push(0, ones, torch.arange(100_000))
        s.push(1, ones, torch.arange(100_000))
        return s

    filled()
    gc.collect()
    base, h0 = rss(), int(engine.NumHandles())
    for _ in range(5):
        s = filled()
        assert s.nbytes == 100_000 * 256 * 4
        del s
    assert rss() - base < 50 * MiB
    assert int(engine.NumHandles()) == h0
    # A view keeps the memory alive after the store is gone; dropping it frees it.
    s = filled()
    v = s.layer(1)
    del s
    gc.collect()
    assert int(engine.NumHandles()) == h0 + 1
    assert float(v[-1].sum()) == 128.0
    del v
    gc.collect()
    assert int(engine.NumHandles()) == h0


def test_public_name():
    assert ibmb.HistoryStore is HistoryStore
    assert "MiB" in repr(HistoryStore(4, [2], dtype=torch.bfloat16))


def test_pull_on_a_thread_while_pushing():
    """A loader's prefetch thread pulls while the training loop pushes: every
    pulled row is one some push wrote whole (rows hold one value each)."""
    import threading

    n, d = 5000, 64
    store = HistoryStore(n, [d, d])
    errors: list = []
    stop = threading.Event()

    def puller():
        gen = torch.Generator().manual_seed(7)
        while not stop.is_set():
            rows = store.pull(int(torch.randint(0, 2, (1,), generator=gen)), torch.randint(0, n, (2000,), generator=gen))
            if not torch.equal(rows, rows[:, :1].expand_as(rows)):
                errors.append("torn row")
                return

    t = threading.Thread(target=puller)
    t.start()
    gen = torch.Generator().manual_seed(8)
    try:
        for it in range(60):
            ids = torch.randperm(n, generator=gen)[:2000]
            store.push(it % 2, torch.rand(2000, 1, generator=gen).expand(2000, d).contiguous(), ids)
    finally:
        stop.set()
        t.join()
    assert not errors
