"""ibmb.profile: GPU profiling through NVML.

On machines without NVML (no NVIDIA driver) the unavailable path is tested
as is; the available path runs against the engine's scripted fake device
(bindings.ProfileUseFake, values from gopkg/profiling/profilingtest.Simple),
so the whole Python layer is exercised without a GPU.
"""
from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import ibmb
from ibmb._native import engine

import ibmb.profiling as prof_mod  # noqa: E402  (the module; ibmb.profile is the function)
GIB = 2**30
NVML_REASON = engine.ProfileAvailable()


@pytest.fixture
def fresh_warnings():
    """Forget which reasons were warned about already."""
    prof_mod._warned.clear()
    yield
    prof_mod._warned.clear()


@pytest.fixture
def no_nvml(fresh_warnings):
    if NVML_REASON == "":
        pytest.skip("NVML is available on this machine: the unavailable path cannot be tested here")
    return NVML_REASON


@pytest.fixture
def fake_gpu():
    """Route profiling to the engine's scripted fake device."""
    engine.ProfileUseFake(True)
    yield
    engine.ProfileUseFake(False)


def _check_empty(p) -> None:
    assert p.available is False
    assert p.summary.samples == 0 and p.summary.duration_s == 0.0
    assert math.isnan(p.summary.peak_memory_bytes) and math.isnan(p.summary.energy_j)
    assert set(p.series) == set(prof_mod._SERIES_FIELDS)
    assert all(a.shape == (0,) for a in p.series.values())


# -- unavailable (no NVIDIA driver) ------------------------------------------


def test_unavailable_warns_once_and_goes_on(no_nvml):
    t0 = time.monotonic()
    with pytest.warns(RuntimeWarning, match="GPU profiling is off: NVML unavailable: "):
        with ibmb.profile() as p:
            ran = True
    assert ran
    assert time.monotonic() - t0 < 5, "the unavailable path must not hang"
    assert p.reason == no_nvml
    assert p.reason.startswith("NVML unavailable: ")
    assert "libnvidia-ml.so.1" in p.reason or "driver" in p.reason or "device" in p.reason
    _check_empty(p)
    assert "unavailable" in repr(p)

    # The same reason is not warned about twice.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ibmb.profile(interval=0.01) as p2:
            pass
    assert p2.reason == no_nvml


def test_unavailable_strict_raises(no_nvml):
    entered = False
    with pytest.raises(ibmb.UnavailableError, match="^NVML unavailable: ") as ei:
        with ibmb.profile(strict=True):
            entered = True
    assert not entered
    assert str(ei.value) == no_nvml


def test_unavailable_decorator(no_nvml):
    @ibmb.profile
    def bare(x):
        """Adds one."""
        return x + 1

    @ibmb.profile(interval=0.01)
    def called(x, *, y):
        return x * y

    with pytest.warns(RuntimeWarning):
        assert bare(1) == 2
    assert bare.__doc__ == "Adds one." and bare.__name__ == "bare"
    assert called(3, y=4) == 12
    _check_empty(bare.profile)
    _check_empty(called.profile)

    @ibmb.profile(strict=True)
    def strict():
        raise AssertionError("must not run")

    with pytest.raises(ibmb.UnavailableError):
        strict()


def test_unavailable_engine_start_error(no_nvml):
    with pytest.raises(ibmb.UnavailableError, match="^NVML unavailable: "):
        prof_mod.call(engine.ProfileStart, 0, 50.0, False)


def test_unavailable_plot(no_nvml, tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.warns(RuntimeWarning):
        with ibmb.profile() as p:
            pass
    out = p.plot(tmp_path / "gpu.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- arguments, engine contract, loading -------------------------------------


@pytest.mark.parametrize("kwargs", [dict(device=-1), dict(device=1.5), dict(device=True), dict(interval=0),
                                    dict(interval=-1), dict(interval=float("nan")), dict(interval="fast")])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ibmb.profile(**kwargs)


def test_summary_fields_match_engine():
    names = tuple(f.name for f in dataclasses.fields(prof_mod.ProfileSummary))
    assert names == prof_mod._SUMMARY_FIELDS
    assert prof_mod._SERIES_FIELDS[0] == "time_s"
    assert len(set(prof_mod._SERIES_FIELDS)) == len(prof_mod._SERIES_FIELDS)


def test_import_restores_dlopen_flags():
    # _native binds the engine lazily (NVML's symbols are resolved when NVML
    # is opened) and must leave Python's flags as it found them.
    code = "import sys; f = sys.getdlopenflags(); import ibmb; assert sys.getdlopenflags() == f, f; print(ibmb.profile)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "function profile" in r.stdout


def test_plot_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="matplotlib"):
        prof_mod.Profile().plot(tmp_path / "x.png")


# -- available path, on the fake device --------------------------------------


def _check_fake_run(p) -> None:
    s = p.summary
    assert p.available and p.reason == "" and p.device_name == "Fake GPU"
    # profilingtest.Simple: the first sample is idle, every later one busy.
    assert s.samples >= 2
    assert s.memory_total_bytes == 16 * GIB
    assert s.start_memory_bytes == 1 * GIB and s.peak_memory_bytes == 5 * GIB
    assert s.peak_process_memory_bytes == 3 * GIB
    assert s.max_gpu_util == 80 and 0 <= s.mean_gpu_util <= 80
    assert s.max_power_w == 300 and 60 <= s.mean_power_w <= 300
    assert s.energy_from_counter is False and s.energy_j > 0
    assert s.duration_s > 0
    t = p.series["time_s"]
    assert len(t) == s.samples and t[0] == 0.0 and np.all(np.diff(t) > 0) and t[-1] <= s.duration_s
    for name, a in p.series.items():
        assert a.dtype == np.float64 and a.shape == t.shape and a.flags.c_contiguous, name
    assert p.series["memory_used_bytes"][0] == 1 * GIB and np.all(p.series["memory_used_bytes"][1:] == 5 * GIB)
    assert np.all(p.series["pcie_rx_bytes_per_s"][1:] == 2000 * 1024)
    e = p.series["energy_j"]
    assert e[0] == 0 and np.all(np.diff(e) >= 0) and e[-1] == pytest.approx(s.energy_j)


def test_fake_context_manager(fake_gpu):
    handles = engine.NumHandles()
    with ibmb.profile(interval=0.005) as p:
        assert "running" in repr(p)
        time.sleep(0.05)
    _check_fake_run(p)
    assert engine.NumHandles() == handles
    assert p.summary.as_dict()["peak_memory_bytes"] == 5 * GIB
    assert "5 GiB" in repr(p)


def test_fake_decorator_and_restart(fake_gpu):
    prof = ibmb.profile(interval=0.005)

    @prof
    def work(n):
        time.sleep(n)
        return "done"

    assert work(0.03) == "done"
    _check_fake_run(work.profile)
    assert prof.summary == work.profile.summary
    first = work.profile
    assert work(0.01) == "done"
    assert work.profile is not first  # a fresh run per call

    # A Profile can be started again; the new run replaces the results.
    p = ibmb.profile(interval=0.005)
    with p:
        pass
    n1 = p.summary.samples
    with p:
        time.sleep(0.03)
    _check_fake_run(p)
    assert p.summary.samples >= n1


def test_fake_no_pcie(fake_gpu):
    with ibmb.profile(interval=0.005, pcie=False) as p:
        time.sleep(0.01)
    assert np.all(np.isnan(p.series["pcie_tx_bytes_per_s"]))
    assert math.isnan(p.summary.mean_pcie_tx_bytes_per_s)


def test_fake_body_raises(fake_gpu):
    handles = engine.NumHandles()
    with pytest.raises(KeyError):
        with ibmb.profile(interval=0.005) as p:
            raise KeyError("boom")
    assert p.summary.samples >= 2  # stopped on the way out
    assert engine.NumHandles() == handles


def test_fake_start_twice(fake_gpu):
    p = ibmb.profile()
    p.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            p.start()
    finally:
        p.stop()
    p.stop()  # a second stop is a no-op
    assert p.summary.samples >= 2


def test_fake_plot(fake_gpu, tmp_path):
    pytest.importorskip("matplotlib")
    with ibmb.profile(interval=0.005) as p:
        time.sleep(0.03)
    out = p.plot(tmp_path / "gpu.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    svg = p.plot(tmp_path / "gpu.svg")
    assert svg.read_text().lstrip().startswith("<?xml")
    noext = p.plot(tmp_path / "gpu")
    assert noext.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fake_device_out_of_range(fake_gpu, fresh_warnings):
    with pytest.warns(RuntimeWarning, match="device 3 out of range"):
        with ibmb.profile(device=3) as p:
            pass
    assert not p.available and "device 3 out of range (1 NVIDIA device(s))" in p.reason
    with pytest.raises(ibmb.UnavailableError, match="device 3 out of range"):
        with ibmb.profile(device=3, strict=True):
            pass


@pytest.mark.skipif(NVML_REASON != "", reason=f"needs an NVIDIA GPU: {NVML_REASON}")
def test_real_gpu(tmp_path):
    """On a GPU machine: allocate memory through torch and see it sampled."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    with ibmb.profile(interval=0.02, strict=True) as p:
        x = torch.empty(512 * 2**20, dtype=torch.uint8, device="cuda")  # 512 MiB
        for _ in range(50):
            x.add_(1)
        torch.cuda.synchronize()
        time.sleep(0.3)
        del x
    s = p.summary
    assert p.available and s.samples >= 5
    assert s.peak_memory_bytes - s.start_memory_bytes >= 400 * 2**20 or s.peak_process_memory_bytes >= 400 * 2**20
    assert s.memory_total_bytes > s.peak_memory_bytes
    assert math.isnan(s.energy_j) or s.energy_j >= 0
    p.plot(tmp_path / "gpu.png")
