"""Shared fixtures: fresh random seeds (printed, so failures can be replayed)
and the location of the real datasets in ../shared/data."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import numpy as np
import pytest

DATA = Path(os.environ.get("IBMB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture
def rng(request) -> np.random.Generator:
    seed = int(os.environ.get("IBMB_TEST_SEED", secrets.randbits(32)))
    print(f"{request.node.name}: IBMB_TEST_SEED={seed}")
    return np.random.default_rng(seed)


@pytest.fixture
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"real datasets not found at {DATA} (set IBMB_DATA)")
    return DATA


def load_cora(root: Path):
    """Cora (public split) through PyG's Planetoid, from the raw files in
    ../shared/data copied under ``root`` (no download)."""
    import shutil

    from torch_geometric.datasets import Planetoid

    src = DATA / "planetoid" / "Cora" / "raw"
    if not src.is_dir():
        pytest.skip(f"Cora raw files not found at {src}")
    raw = root / "Cora" / "raw"
    if not raw.is_dir():
        shutil.copytree(src, raw)
    return Planetoid(str(root), "Cora")[0]


def load_edges(name: str) -> np.ndarray:
    """[2, 2E] int64 edge_index (both directions) of a karateclub graph."""
    path = DATA / "karateclub" / name / "edges.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    e = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64).T
    return np.ascontiguousarray(np.concatenate([e, e[::-1]], axis=1))


@pytest.fixture(scope="session")
def cora(tmp_path_factory):
    return load_cora(tmp_path_factory.mktemp("planetoid"))


@pytest.fixture(scope="session")
def github_edges():
    return load_edges("github")
