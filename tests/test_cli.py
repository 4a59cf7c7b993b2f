"""The ibmb command runs end to end on a small built-in graph."""
from __future__ import annotations

import subprocess
import sys

from ibmb.cli import main


def test_demo_small(capsys):
    assert main(["demo", "--nodes", "3000", "--features", "16", "--batch", "500", "--batches", "4"]) == 0
    out = capsys.readouterr().out
    assert "gather == numpy      True" in out and "build CSR" in out


def test_version_and_help():
    assert main(["--version"]) == 0
    assert main([]) == 2


def test_module_entry_point():
    p = subprocess.run([sys.executable, "-m", "ibmb", "--version"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip()
