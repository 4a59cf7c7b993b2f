"""Arena files under damage and abuse (issue 12, item 4 and the arena part of
item 6): corrupt bytes, truncation, non-regular files, missing files, file
modes, processes killed or interrupted while saving.

Everything that could abort, hang or crash the interpreter runs in a
subprocess with a timeout, so a regression fails the test instead of
killing pytest."""
from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ibmb.arena import Arena

from ibmb.batching import Batches
from ibmb.graph import CSRGraph

PYTHON_DIR = str(Path(__file__).resolve().parents[1] / "python")


def _run(code: str, *args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports this checkout's ibmb."""
    e = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout, env=e)


def _small_arena(with_x: bool = True) -> Arena:
    """An arena of 3 batches of a 40-node ring with chords, labels, features."""
    n = 40
    src = np.concatenate([np.arange(n), np.arange(0, n, 3)])
    dst = np.concatenate([(np.arange(n) + 1) % n, (np.arange(0, n, 3) + 7) % n])
    g = CSRGraph.from_edge_index(np.stack([src, dst]), n, symmetrize=True)
    nodes = [np.arange(0, 16), np.arange(10, 30), np.arange(24, 40)]
    outs = [np.arange(0, 12, 2), np.arange(12, 26, 2), np.arange(26, 40, 2)]
    b = Batches(np.cumsum([0] + [len(o) for o in outs]).astype(np.int64), np.concatenate(outs).astype(np.int64),
                np.cumsum([0] + [len(v) for v in nodes]).astype(np.int64), np.concatenate(nodes).astype(np.int64))
    x = np.arange(n * 4, dtype=np.float32).reshape(n, 4) if with_x else None
    return Arena.build(g, b, x=x, y=np.arange(n) % 3)


FLIPS = r"""
import os, random, sys
from ibmb import IBMBNodeLoader
from ibmb.arena import Arena
src, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(src, "rb").read()
rng = random.Random(seed)
outcomes = {}
for i in range(n):
    bit = rng.randrange(len(data) * 8)
    b = bytearray(data)
    b[bit // 8] ^= 1 << (bit % 8)
    path = f"{src}.{i}"  # a file of its own: a mapped file must not be rewritten
    open(path, "wb").write(b)
    print("flip", i, "byte", bit // 8, "bit", bit % 8, flush=True)
    try:
        for v in Arena.load(path, verify=False):
            (v.n_id.sum(), v.edge_index.sum(), v.edge_weight.sum(), v.output_mask.sum(), v.y.sum(), v.x.sum())
        for d in IBMBNodeLoader.load(path, batch_order="order", verify=False):
            pass
        out = "loaded"
    except (OSError, ValueError, IndexError, MemoryError, TypeError) as e:
        out = type(e).__name__
    os.unlink(path)
    outcomes[out] = outcomes.get(out, 0) + 1
print("outcomes", outcomes)
"""


def test_bit_flips_never_crash(tmp_path):
    """Issue 12 item 4: 300 random single-bit flips of a saved arena, loaded
    with verify=False and iterated through the Arena and a loader: each gives
    a clean exception or a valid load, never an abort or a segfault."""
    path = tmp_path / "good.ibmb"
    _small_arena().save(path)
    # A flipped label makes the loader's class count huge: the engine must
    # refuse it, and must not take this machine's memory while doing so.
    r = _run(FLIPS, str(path), "300", "12", env={"IBMB_MEMORY_LIMIT": "1G"})
    last = (r.stdout.strip().splitlines() or ["no output"])[-1]
    assert r.returncode == 0, f"rc {r.returncode} at {last}\n{r.stderr[-3000:]}"
    assert last.startswith("outcomes"), last
    print(last)


def test_size_must_match_header(tmp_path):
    data = (tmp_path / "a.ibmb")
    _small_arena().save(data)
    good = data.read_bytes()
    for name, bad in [("truncated", good[:-64]), ("extended", good + b"\0" * 64), ("header only", good[:4096])]:
        p = tmp_path / name
        p.write_bytes(bad)
        with pytest.raises(OSError, match="header declares|shorter"):
            Arena.load(p, verify=False)


@pytest.mark.parametrize("kind", ["str", "bytes", "pathlike"])
def test_missing_file_is_file_not_found(tmp_path, kind):
    p = tmp_path / "missing.ibmb"
    arg = {"str": str(p), "bytes": os.fsencode(p), "pathlike": p}[kind]
    with pytest.raises(FileNotFoundError) as e:
        Arena.load(arg)
    assert e.value.errno == errno.ENOENT and e.value.filename == os.fspath(arg)
    with pytest.raises(FileNotFoundError) as e:
        _small_arena().save(tmp_path / "no-such-folder" / "a.ibmb")
    assert e.value.errno == errno.ENOENT


@pytest.mark.parametrize("kind", ["bytes", "pathlike"])
def test_bytes_and_pathlike_paths(tmp_path, kind):
    p = tmp_path / "a.ibmb"
    arg = {"bytes": os.fsencode(p), "pathlike": p}[kind]
    a = _small_arena()
    a.save(arg)
    b = Arena.load(arg)
    assert len(b) == len(a) and all(np.array_equal(u.n_id, v.n_id) for u, v in zip(a, b))


def test_directories_and_devices_refused(tmp_path):
    with pytest.raises(IsADirectoryError) as e:
        Arena.load(tmp_path)
    assert e.value.filename == os.fspath(tmp_path)
    with pytest.raises(IsADirectoryError):
        _small_arena().save(tmp_path)
    with pytest.raises(OSError, match="not a regular file"):
        Arena.load("/dev/null")
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(OSError) as e:  # open(2) itself refuses a socket: ENXIO
            Arena.load(sock_path)
        assert e.value.errno == errno.ENXIO and e.value.filename == str(sock_path)


def test_fifo_refused_without_blocking(tmp_path):
    """Issue 12 item 4: Arena.load on a FIFO blocked forever (no writer ever
    opens it). Run in a subprocess so that a hang fails the test."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = """
    import sys
    from ibmb.arena import Arena
    try:
        Arena.load(sys.argv[1])
    except OSError as e:
        print("refused:", e)
    """
    r = _run(code, str(fifo), timeout=60)
    assert r.returncode == 0 and "refused:" in r.stdout and "FIFO" in r.stdout, r.stdout + r.stderr


def test_save_mode_follows_umask_and_keeps_existing(tmp_path):
    """Issue 12 item 4: saves were always 0600. A new file gets 0666 & ~umask;
    a replaced file keeps its mode."""
    a = _small_arena()
    old = os.umask(0o027)
    try:
        a.save(tmp_path / "new.ibmb")
        existing = tmp_path / "old.ibmb"
        existing.write_bytes(b"old")
        existing.chmod(0o604)
        a.save(existing)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.ibmb").stat().st_mode) == 0o640
    assert stat.S_IMODE(existing.stat().st_mode) == 0o604
    assert len(Arena.load(existing)) == len(a)


BIG = r"""
from ibmb._testing import cpu_seconds, restore_sigint
restore_sigint()
import os, sys, time
import numpy as np
from ibmb.arena import Arena
from ibmb.batching import Batches
from ibmb.graph import CSRGraph
import ibmb._jobs
path, n, f, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
real_wait = ibmb._jobs.wait


def wait(handle, desc, progress):
    print("waiting", desc.replace(" ", "_"), flush=True)  # the engine job is running
    return real_wait(handle, desc, progress)


ibmb._jobs.wait = wait
ring = np.arange(n)
g = CSRGraph.from_edge_index(np.stack([ring, (ring + 1) % n]), n, symmetrize=True)
ptr = np.arange(0, n + 1, 1000, dtype=np.int64)
b = Batches(ptr, ring.astype(np.int64), ptr, ring.astype(np.int64))
x = np.ones((n, f), np.float32)
try:
    print("building", flush=True)
    arena = Arena.build(g, b, x=x)
    print("built", arena.nbytes, flush=True)
    if step == "save":
        arena.save(path)
        print("saved", flush=True)
except KeyboardInterrupt:
    t = time.time()
    cpu = cpu_seconds()
    time.sleep(1.0)
    cpu = cpu_seconds() - cpu
    print(f"interrupted {t!r} cpu_after {cpu:.3f}", flush=True)
"""


def _start_big(path: Path, step: str) -> tuple[subprocess.Popen, list[Path]]:
    """Start a subprocess that builds a ~300 MB arena and, for step "save",
    saves it to ``path``. Return it once the build's engine job runs
    ("build") or the save's temporary file exists ("save"), with the
    temporary files."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-c", BIG, str(path), "75000", "1024", step], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    for want in ["building", "waiting IBMB_arena"] + (["built", "waiting IBMB_save"] if step == "save" else []):
        line = p.stdout.readline()
        assert line.startswith(want), line + p.stderr.read()
    if step == "build":
        return p, []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = list(path.parent.glob(f".{path.name}.tmp-*"))
        if temps:
            return p, temps
        assert p.poll() is None, p.stdout.read() + p.stderr.read()
        time.sleep(0.002)
    p.kill()
    raise AssertionError("the save never started")


@pytest.mark.parametrize("step", ["build", "save"])
def test_ctrl_c_during_build_and_save(tmp_path, step):
    """Issue 12 item 6: SIGINT while a big arena is built or saved gives
    KeyboardInterrupt within 1 s, no engine work keeps running (CPU idle
    afterwards), and an interrupted save removes its temporary file and
    leaves no target behind."""
    path = tmp_path / "big.ibmb"
    p, _ = _start_big(path, step)
    sent = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err[-3000:]
    assert "interrupted" in out, f"the {step} finished before the signal arrived: {out}"
    words = out.split()
    latency = float(words[words.index("interrupted") + 1]) - sent
    cpu = float(words[words.index("cpu_after") + 1])
    print(f"{step}: SIGINT -> KeyboardInterrupt {latency:.3f} s; CPU in the next second {cpu:.3f} s")
    # The bound the issue sets; measured 0.11 s (save) on a loaded 2-core machine.
    assert latency < 1.0, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    assert cpu < 0.1, f"{cpu:.2f} s of CPU in the second after the interrupt: work still running"
    assert not path.exists() and not list(tmp_path.glob(".*tmp-*")), os.listdir(tmp_path)


def test_killed_save_leaves_temp_that_next_save_removes(tmp_path):
    """Issue 12 item 4: kill -9 during save left full-size hidden temporary
    files forever; the next save of the same path removes them."""
    path = tmp_path / "big.ibmb"
    p, temps = _start_big(path, "save")
    p.kill()
    p.communicate(timeout=60)
    assert all(t.exists() for t in temps)
    _small_arena().save(path)
    assert not list(tmp_path.glob(".*tmp-*")), os.listdir(tmp_path)
    assert len(Arena.load(path)) == 3
