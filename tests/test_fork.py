"""The fork rule (issue 12, finding 5, first half).

The Go runtime's threads do not survive ``fork``: an engine call in a child
forked after ``import ibmb`` used to hang forever. It now raises
``ibmb.ForkError`` (a RuntimeError naming spawn/forkserver) at once, nothing
in the child (finalizers, exit handlers) calls into the engine, and the
error reaches the parent through multiprocessing and torch's DataLoader.
Each scenario runs in its own interpreter under a timeout, so a hang fails
the test instead of the suite.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import ibmb
from ibmb._testing import run_script as _run

PYTHON_DIR = str(Path(ibmb.__file__).resolve().parents[1])


def run_script(tmp_path: Path, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` as a script file (spawned workers re-import it by path)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = {"PYTHONPATH": PYTHON_DIR, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    # A session of its own, so that a hung run's forked workers go with it.
    rc, out, err = _run(str(script), [], env, str(tmp_path), timeout)
    return subprocess.CompletedProcess([sys.executable, str(script)], rc, out, err)


def test_engine_call_in_forked_child_raises(tmp_path):
    r = run_script(tmp_path, """
        import gc, os, sys, time
        import numpy as np
        import ibmb
        from ibmb.arena import Arena
        from ibmb.batching import node_wise
        from ibmb.graph import CSRGraph

        g = CSRGraph.from_edge_index(np.array([[0, 1, 1, 2], [1, 0, 2, 1]]))
        arena = Arena.build(g, node_wise(g, np.array([0, 2]), 2, 1), y=np.zeros(3, np.int64))
        view = arena[0].n_id
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(rd)
            out = os.fdopen(wr, "w")
            try:
                g.degree()
                out.write("no error\\n")
            except ibmb.ForkError as e:
                out.write(f"ForkError {isinstance(e, RuntimeError)} {e}\\n")
            # Dropping engine objects runs their finalizers: none may call Go here.
            del arena, g
            gc.collect()
            out.write(f"view {view.tolist()}\\n")  # views stay readable in the child
            out.close()
            sys.exit(0)  # a normal exit: atexit handlers run too
        os.close(wr)
        deadline = time.time() + 60
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            print("child hung")
            sys.exit(1)
        print(os.fdopen(rd).read(), end="")
        print("child status", os.waitstatus_to_exitcode(status))
        print("parent still works", g.degree().tolist())
    """)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0].startswith("ForkError True ") and "spawn" in lines[0] and "forkserver" in lines[0], lines
    assert lines[1].startswith("view ")
    assert lines[2:] == ["child status 0", "parent still works [1, 2, 1]"]


def test_multiprocessing_pool_with_fork_reports_to_parent(tmp_path):
    r = run_script(tmp_path, """
        import multiprocessing as mp
        import numpy as np
        import ibmb

        def work(i):
            return ibmb.get_ppr(np.array([[0, 1, 1, 2], [1, 0, 2, 1]]), target=np.array([i % 3]))[1].tolist()

        if __name__ == "__main__":
            with mp.get_context("fork").Pool(2) as pool:
                try:
                    print("no error", pool.map(work, range(4)))
                except ibmb.ForkError as e:
                    print("ForkError in parent:", e)
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("ForkError in parent:") and "spawn" in r.stdout, r.stdout


def test_dataloader_workers_fork_error_and_spawn_works(tmp_path):
    r = run_script(tmp_path, """
        import numpy as np
        import torch
        from torch.utils.data import DataLoader, Dataset
        import ibmb

        X = torch.arange(12, dtype=torch.float32).reshape(6, 2)

        class Rows(Dataset):
            def __len__(self):
                return 6

            def __getitem__(self, i):
                return ibmb.gather(X, torch.tensor([i]))[0]

        if __name__ == "__main__":
            import multiprocessing as mp
            assert mp.get_start_method() == "fork"  # the default on Linux before Python 3.14
            try:
                list(DataLoader(Rows(), batch_size=2, num_workers=2))  # default start method
                print("fork: no error")
            except RuntimeError as e:
                first = str(e).strip().splitlines()[0]
                print(f"fork: {type(e).__name__}: {first}")
                print("names spawn:", "spawn" in str(e))
            out = torch.cat(list(DataLoader(Rows(), batch_size=2, num_workers=2, multiprocessing_context="spawn")))
            print("spawn:", torch.equal(out, X))
    """, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0].startswith("fork: ForkError: "), lines
    assert lines[1:] == ["names spawn: True", "spawn: True"], lines
