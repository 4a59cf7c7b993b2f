"""PyG baselines (NeighborLoader, ClusterLoader, PyG's IBMB loaders) on both
sides of their optional native dependencies (pyg-lib / torch_sparse).

Missing: every baseline that needs them reports "unavailable: <reason>;
install: make deps ..." in ``ibmb bench`` and ``ibmb train`` instead of
crashing. The dependencies are hidden in a subprocess by a meta-path finder,
so this runs whether or not they are installed here.

Present: ``make deps`` builds torch_scatter + torch_sparse with METIS
(benchmarks/install_pyg_metis.sh) and ``make test`` sets
IBMB_REQUIRE_BASELINES=1, so there the baselines must really train; a bare
pytest run without them skips that test with the reason.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

# Runs the ibmb CLI with pyg_lib, torch_sparse and torch_scatter unimportable.
HIDDEN = """
import importlib.abc, runpy, sys

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('pyg_lib', 'torch_sparse', 'torch_scatter'):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None

sys.meta_path.insert(0, Hide())
import torch_geometric.typing as tgt
assert not (tgt.WITH_PYG_LIB or tgt.WITH_TORCH_SPARSE or tgt.WITH_METIS), "the blocker did not hide PyG's backends"
sys.argv = ['ibmb'] + sys.argv[1:]
runpy.run_module('ibmb', run_name='__main__', alter_sys=True)
"""

SMALL = ["--nodes", "600", "--features", "8", "--classes", "3", "--epochs", "2", "--quiet",
         "--outputs-per-batch", "64"]


def _cli_without_backends(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDDEN, *args], capture_output=True, text=True, timeout=300)


def test_baselines_unavailable_without_backends():
    r = _cli_without_backends("bench", *SMALL, "--methods", "ibmb-node,neighbor,cluster,pyg-ibmb-node")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.split()}
    for m in ("neighbor", "cluster", "pyg-ibmb-node"):
        assert "unavailable:" in rows[m] and "make deps" in rows[m], r.stdout
    assert "unavailable" not in rows["ibmb-node"]
    assert float(rows["ibmb-node"].split()[1]) > 0  # IBMB itself still trained and was tested


def test_train_of_an_unavailable_baseline_is_a_clear_error():
    r = _cli_without_backends("train", *SMALL, "--method", "neighbor")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "neighbor: unavailable: PyG's NeighborLoader needs pyg-lib or torch-sparse" in r.stderr
    assert "make deps" in r.stderr and "install_pyg_metis.sh" in r.stderr


def test_baselines_train_when_backends_are_installed():
    from ibmb import data as D
    from ibmb import train as T

    missing = [m for m in ("neighbor", "cluster") if T.unavailable_reason(m)]
    if missing:
        why = T.unavailable_reason(missing[0])
        if os.environ.get("IBMB_REQUIRE_BASELINES") == "1":
            pytest.fail(f"IBMB_REQUIRE_BASELINES=1 but {why}")
        pytest.skip(why)
    data = D.load("default", num_nodes=1500, num_features=16, num_classes=3, homophily=0.8, separation=1.0)
    cfg = T.Config(epochs=15, patience=15, num_nodes_per_batch=64, batch_size=128, cluster_parts=8, progress=False)
    results = T.run(["neighbor", "cluster"], data, cfg)
    for r in results:
        # METIS really partitioned (a torch_sparse without it would make cluster "unavailable") and both learned.
        assert not r.note.startswith("unavailable"), r.note
        assert math.isfinite(r.test_acc) and r.test_acc > 0.6, (r.method, r.test_acc)
    assert results[1].note == "8 METIS parts"
