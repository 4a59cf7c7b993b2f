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
