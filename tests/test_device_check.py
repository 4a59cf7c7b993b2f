"""benchmarks/device_check.py, the GPU machine's one command, in its dry run:
the same script and parts with the device work skipped and the CPU references
computed, so that it cannot rot between the rare runs on a GPU."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "device_check.py"
PARTS = ["env", "gather", "ppr", "loaders", "nvml", "train", "histories", "distributed"]
DEVICE_PARTS = ["gather", "ppr", "loaders", "nvml", "train", "histories", "distributed"]
# CPU references that must hold in the dry run (the loaders' leak figures belong to the memory tests).
CPU_CHECKS = {"gather": ["cpu_equals_index_select_float32", "cpu_equals_index_select_float16",
                         "cpu_equals_index_select_bfloat16"],
              "ppr": ["cpu_within_push_bound"], "loaders": ["batches_equal_cpu_loader"],
              "nvml": ["unavailable_profile_says_why"],
              "train": ["train_rc_0", "accuracy_reported", "plot_written", "gpu_profile_reported"],
              "histories": [f"host_store_equals_index_ops_{t}" for t in ("float32", "float16", "bfloat16", "float64")],
              "distributed": ["backend_is_gloo", "macrobatch_0_above_chance", "macrobatch_1_above_chance"]}


def _run(out: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OUT=str(out))
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
                          env=env)


def test_dry_run_report(tmp_path):
    r = _run(tmp_path, "--dry-run")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["schema"] == 1 and report["dry_run"] is True and report["mode"].startswith("dry run")
    assert report["complete"] is True and report["startup_s"] >= 0 and len(report["source_hash"]) == 64
    assert list(report["parts"]) == PARTS
    statuses = {n: p["status"] for n, p in report["parts"].items()}
    for name, part in report["parts"].items():
        assert part["status"] in ("pass", "fail", "skipped", "not_implemented"), (name, part)  # no error/timeout
        assert part["seconds"] >= 0 and part["limit_s"] > 0
    assert statuses["env"] == "pass"
    for name in DEVICE_PARTS:
        part = report["parts"][name]
        assert part["status"] in ("skipped", "fail") and part["reason"], (name, part)
        cpu = part["cpu_reference"]["checks"]
        for check in CPU_CHECKS[name]:
            assert cpu.get(check) is True, (name, check, part)
    assert report["parts"]["gather"]["cpu_reference"]["gather_gbps"] > 0
    assert report["parts"]["ppr"]["cpu_reference"]["cpu_s"] > 0
    assert report["summary"] == {s: sum(v == s for v in statuses.values()) for s in report["summary"]}
    assert r.returncode == (1 if report["summary"]["fail"] else 0), r.stdout + r.stderr
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# ibmb device check: dry run") and all(f"| {n} | " in md for n in PARTS)
    assert "## Not verified on a GPU in this run" in md
    log = (tmp_path / "device_check.log").read_text()
    assert all(f"===== part {n} " in log for n in PARTS)
    # Nothing beyond what the device machine brings back ($OUT: at most 8 files, none deeper than 2 folders).
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) <= 8 and all(len(p.relative_to(tmp_path).parts) <= 3 for p in files), files


def test_without_a_gpu_the_run_becomes_a_dry_run(tmp_path):
    import torch

    if torch.cuda.is_available():  # pragma: no cover - a GPU machine runs the real check instead
        return
    r = _run(tmp_path, "--parts", "env,histories")
    report = json.loads((tmp_path / "report.json").read_text())
    assert r.returncode == 0, r.stdout + r.stderr
    assert report["dry_run"] is True and report["mode"].startswith("dry run (automatic: "), report["mode"]
    assert report["parts"]["env"]["figures"]["cuda_device"] is False
