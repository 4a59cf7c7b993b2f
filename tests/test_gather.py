"""ibmb.gather against numpy / torch on fresh random inputs."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import torch

import ibmb

ROW_WIDTHS = [1, 2, 3, 5, 7, 16, 33, 64, 127, 128, 257, 1024]
NP_DTYPES = [np.float32, np.float16, ml_dtypes.bfloat16]
TORCH_DTYPES = [torch.float32, torch.float16, torch.bfloat16]


def _random_np(rng, shape, dtype):
    # Random bit patterns (NaN payloads, infinities, subnormals included): the
    # copy must reproduce every bit.
    itemsize = np.dtype(dtype).itemsize
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * itemsize, dtype=np.uint8)
    return raw.view(dtype).reshape(shape)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _tbits_equal(a, b):
    """Bitwise equality of two torch tensors (NaN payloads included)."""
    return a.shape == b.shape and torch.equal(a.contiguous().view(-1).view(torch.uint8),
                                              b.contiguous().view(-1).view(torch.uint8))


@pytest.mark.parametrize("dtype", NP_DTYPES)
@pytest.mark.parametrize("width", ROW_WIDTHS)
def test_numpy_bit_exact(rng, dtype, width):
    n = int(rng.integers(1, 500))
    x = _random_np(rng, (n, width), dtype)
    idx = rng.integers(0, n, size=int(rng.integers(0, 2000)))
    got = ibmb.gather(x, idx)
    assert isinstance(got, np.ndarray) and got.dtype == x.dtype and got.shape == (len(idx), width)
    assert np.array_equal(_bits(got), _bits(np.take(x, idx, axis=0)))


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
@pytest.mark.parametrize("width", [1, 3, 8, 65, 300])
def test_torch_bit_exact(rng, dtype, width):
    n = int(rng.integers(1, 300))
    x = torch.from_numpy(_random_np(rng, (n, width), np.int16 if dtype != torch.float32 else np.int32)).view(dtype)
    idx = torch.from_numpy(rng.integers(0, n, size=700))
    got = ibmb.gather(x, idx)
    assert isinstance(got, torch.Tensor) and got.dtype == dtype
    ref = torch.index_select(x, 0, idx)
    assert _tbits_equal(got, ref)


def test_empty_and_repeated(rng):
    x = _random_np(rng, (10, 4), np.float32)
    assert ibmb.gather(x, np.array([], dtype=np.int64)).shape == (0, 4)
    idx = np.array([3, 3, 3, 0, 9, 3])
    assert np.array_equal(_bits(ibmb.gather(x, idx)), _bits(x[idx]))
    t = torch.from_numpy(x)
    assert ibmb.gather(t, torch.tensor([], dtype=torch.long)).shape == (0, 4)


def test_shapes_1d_and_3d(rng):
    x1 = _random_np(rng, (50,), np.float16)
    idx = rng.integers(0, 50, size=77)
    assert np.array_equal(_bits(ibmb.gather(x1, idx)), _bits(x1[idx]))
    x3 = _random_np(rng, (20, 3, 5), np.float32)
    idx = rng.integers(0, 20, size=40)
    got = ibmb.gather(x3, idx)
    assert got.shape == (40, 3, 5) and np.array_equal(_bits(got), _bits(x3[idx]))


def test_zero_width_rows():
    x = np.zeros((5, 0), dtype=np.float32)
    assert ibmb.gather(x, np.array([4, 0])).shape == (2, 0)
    with pytest.raises(IndexError):
        ibmb.gather(x, np.array([5]))


def test_int32_and_other_integer_indices(rng):
    x = _random_np(rng, (30, 6), np.float32)
    for dt in (np.int32, np.uint16, np.int8):
        idx = rng.integers(0, 30, size=50).astype(dt)
        assert np.array_equal(_bits(ibmb.gather(x, idx)), _bits(x[idx.astype(np.int64)]))
    idx = torch.from_numpy(rng.integers(0, 30, size=50)).to(torch.int32)
    assert _tbits_equal(ibmb.gather(torch.from_numpy(x), idx), torch.from_numpy(x)[idx.long()])


def test_large_parallel_gather(rng):
    x = _random_np(rng, (50_000, 96), np.float32)
    idx = rng.integers(0, 50_000, size=300_000)
    assert np.array_equal(_bits(ibmb.gather(x, idx)), _bits(np.take(x, idx, axis=0)))


@pytest.mark.parametrize("bad", [-1, 10, 2**40, -(2**62)])
def test_out_of_range_raises_and_leaves_out_untouched(rng, bad):
    x = _random_np(rng, (10, 8), np.float32)
    out = np.full((600, 8), 7.0, dtype=np.float32)
    idx = rng.integers(0, 10, size=600)
    idx[int(rng.integers(0, 600))] = bad
    with pytest.raises(IndexError, match="out of range"):
        ibmb.gather(x, idx, out=out)
    assert (out == 7.0).all()
    t_out = torch.full((600, 8), 7.0)
    with pytest.raises(IndexError):
        ibmb.gather(torch.from_numpy(x), torch.from_numpy(idx), out=t_out)
    assert (t_out == 7.0).all()


def test_large_out_of_range_untouched(rng):
    # Large enough for the parallel path: a bad index near the end must still
    # leave every row of out untouched.
    x = _random_np(rng, (1000, 64), np.float32)
    idx = rng.integers(0, 1000, size=200_000)
    idx[-3] = 1000
    out = np.zeros((200_000, 64), dtype=np.float32)
    with pytest.raises(IndexError):
        ibmb.gather(x, idx, out=out)
    assert not out.any()


def test_out_argument(rng):
    x = _random_np(rng, (40, 5), np.float16)
    idx = rng.integers(0, 40, size=11)
    out = np.empty((11, 5), dtype=np.float16)
    assert ibmb.gather(x, idx, out=out) is out
    assert np.array_equal(_bits(out), _bits(x[idx]))
    with pytest.raises(ValueError, match="shape"):
        ibmb.gather(x, idx, out=np.empty((12, 5), dtype=np.float16))
    with pytest.raises(TypeError, match="dtype"):
        ibmb.gather(x, idx, out=np.empty((11, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="contiguous"):
        ibmb.gather(x, idx, out=np.empty((11, 10), dtype=np.float16)[:, ::2])
    with pytest.raises(TypeError):
        ibmb.gather(x, idx, out=torch.empty(11, 5, dtype=torch.float16))


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_wrong_x_dtype(dtype):
    with pytest.raises(TypeError, match="dtype"):
        ibmb.gather(np.zeros((4, 2), dtype=dtype), np.array([0]))


def test_wrong_index_dtype_and_shape():
    x = np.zeros((4, 2), dtype=np.float32)
    for idx in (np.array([0.0, 1.0]), np.array([True, False, True, False]), ["a"]):
        with pytest.raises(TypeError):
            ibmb.gather(x, idx)
    with pytest.raises(TypeError):
        ibmb.gather(torch.zeros(4, 2), torch.tensor([0.5]))
    with pytest.raises(ValueError, match="1-D"):
        ibmb.gather(x, np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError):
        ibmb.gather([[1.0, 2.0]], np.array([0]))
    with pytest.raises(TypeError):
        ibmb.gather(torch.zeros(4, 2, dtype=torch.float64), torch.tensor([0]))


def test_non_contiguous_inputs(rng):
    base = _random_np(rng, (60, 20), np.float32)
    for x in (base[:, ::3], base[::2], base.T, base[:, 4:9]):
        idx = rng.integers(0, x.shape[0], size=90)
        assert np.array_equal(_bits(ibmb.gather(x, idx)), _bits(x[idx]))
    idx = rng.integers(0, 60, size=200)[::2]
    assert np.array_equal(_bits(ibmb.gather(base, idx)), _bits(base[idx]))
    t = torch.from_numpy(base).t()
    ti = torch.from_numpy(rng.integers(0, 20, size=33))
    assert _tbits_equal(ibmb.gather(t, ti), t[ti])


def test_threads_setting():
    old = ibmb.set_num_threads(1)
    try:
        assert ibmb.num_threads() == 1
        x = np.arange(40, dtype=np.float32).reshape(10, 4)
        assert np.array_equal(ibmb.gather(x, np.arange(10)[::-1].copy()), x[::-1])
    finally:
        ibmb.set_num_threads(old)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("dtype", TORCH_DTYPES)
@pytest.mark.parametrize("width", [1, 3, 8, 64, 65, 512, 1000])
def test_cuda_bit_exact_vs_cpu(rng, dtype, width):
    n = 5000
    x = torch.from_numpy(_random_np(rng, (n, width), np.int16 if dtype != torch.float32 else np.int32)).view(dtype)
    idx = torch.from_numpy(rng.integers(0, n, size=20_000))
    cpu = ibmb.gather(x, idx)
    gpu = ibmb.gather(x.cuda(), idx.cuda())
    torch.cuda.synchronize()
    assert gpu.is_cuda
    assert _tbits_equal(gpu.cpu(), cpu)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_bad_index_untouched():
    x = torch.randn(100, 16, device="cuda")
    out = torch.full((50, 16), 3.0, device="cuda")
    idx = torch.randint(0, 100, (50,), device="cuda")
    idx[17] = 100
    with pytest.raises(IndexError):
        ibmb.gather(x, idx, out=out)
    assert (out == 3.0).all()


def test_cuda_unavailable_is_clear():
    status = ibmb.cuda_status()
    assert isinstance(status, str)
    if not torch.cuda.is_available():
        assert status, "no GPU here, so the engine must say why CUDA is unavailable"
        assert "unavailable" in status
