"""Reporting a run: the summary table, the comparison with a baseline method
(speed-ups and accuracy deltas), the plots (validation accuracy against
training time; test accuracy against inference time) and the JSON file
(fields documented in the README, "The `ibmb` command")."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from typing import Any, Optional, Sequence

from ibmb.train.measure import Result

__all__ = ["table", "comparison", "plot", "results_json", "write_json", "JSON_FIELDS"]

# The per-method fields of the JSON file, in order (Result's fields less the in-memory extra).
JSON_FIELDS = tuple(f.name for f in dataclasses.fields(Result) if f.name != "extra")


def _secs(v: float) -> str:
    return "-" if not math.isfinite(v) else f"{v:.3f} s" if v >= 0.01 else f"{v * 1e3:.2f} ms"


def _grid(rows: list[Sequence[str]]) -> str:
    w = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


def table(results: list[Result]) -> str:
    """The summary table as text: test accuracy (mean ± std over seeds),
    preprocessing, epoch and loader time, time to the best validation
    accuracy (and its epoch), inference and its preprocessing, peak memory."""
    rows: list[Sequence[str]] = [("method", "test acc", "preprocess", "epoch", "loader/epoch", "to best val",
                                  "infer", "infer prep", "peak train", "peak infer", "note")]
    for r in results:
        acc = "-" if not math.isfinite(r.test_acc) else f"{100 * r.test_acc:.2f}"
        if r.seeds > 1 and math.isfinite(r.test_acc_std):
            acc += f" ± {100 * r.test_acc_std:.2f}"
        best = "-" if not math.isfinite(r.time_to_best_val_s) else \
            f"{_secs(r.time_to_best_val_s)} (ep {r.best_epoch})"
        mem = (lambda b: f"{b / 2**20:.0f} MiB" if r.available else "-")
        rows.append((r.method, acc, _secs(r.preprocess_s), _secs(r.epoch_s), _secs(r.loader_s), best,
                     _secs(r.infer_s), _secs(r.infer_preprocess_s), mem(r.peak_train_bytes),
                     mem(r.peak_infer_bytes), r.note))
    return _grid(rows)


def _ratio(base: float, x: float) -> str:
    return f"{base / x:.1f}x" if math.isfinite(base) and math.isfinite(x) and x > 0 and base > 0 else "-"


def comparison(results: list[Result], baseline: str) -> str:
    """Every other method against ``baseline``: test accuracy difference in
    points, and speed-ups (baseline time / method time, > 1: faster) of an
    epoch, of the time to the best validation accuracy, and of inference
    (without and with building the inference batches). Empty when the
    baseline did not run."""
    by = {r.method: r for r in results}
    b = by.get(baseline)
    if b is None or not math.isfinite(b.test_acc):
        return ""
    rows: list[Sequence[str]] = [("method", "Δ test acc", "epoch", "to best val", "inference", "infer + prep")]
    for r in results:
        if r.method == baseline or not math.isfinite(r.test_acc):
            continue
        d = 100 * (r.test_acc - b.test_acc)
        rows.append((r.method, f"{d:+.2f} points", _ratio(b.epoch_s, r.epoch_s),
                     _ratio(b.time_to_best_val_s, r.time_to_best_val_s), _ratio(b.infer_s, r.infer_s),
                     _ratio(b.infer_s + b.infer_preprocess_s, r.infer_s + r.infer_preprocess_s)))
    if len(rows) == 1:
        return ""
    return f"against {baseline} (speed-up: {baseline}'s time / the method's; > 1x is faster)\n" + _grid(rows)


def plot(results: list[Result], path: str, title: str = "") -> None:
    """PNG with two panels: validation accuracy against training time
    (preprocessing included, validation excluded; the best point marked) per
    method, and test accuracy against inference time (log x-axis)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plotting needs matplotlib (pip install matplotlib)") from e
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, r in enumerate(x for x in results if x.val_curve):
        t, a = zip(*r.val_curve)
        line, = ax.plot(t, [100 * v for v in a], lw=1.3, label=r.method)
        if math.isfinite(r.time_to_best_val_s):
            ax.scatter([r.time_to_best_val_s], [100 * r.val_acc if r.seeds == 1 else 100 * max(a)], s=30,
                       color=line.get_color(), zorder=3)
    ax.set_xlabel("training time incl. preprocessing (s)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("convergence (dot: best validation accuracy)", fontsize=9)
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    for r in results:
        if math.isfinite(r.test_acc) and math.isfinite(r.infer_s):
            bx.scatter(r.infer_s, 100 * r.test_acc, s=40)
            bx.annotate(r.method, (r.infer_s, 100 * r.test_acc), textcoords="offset points", xytext=(5, 4),
                        fontsize=8)
    bx.set_xscale("log")
    bx.set_xlabel("inference time over the test nodes (s, log scale)")
    bx.set_ylabel("test accuracy (%)")
    bx.set_title("inference", fontsize=9)
    bx.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _clean(v: Any) -> Any:
    """JSON-safe: non-finite floats become null."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def results_json(command: str, results: list[Result], config: Optional[dict] = None,
                 dataset: Optional[dict] = None, baseline: Optional[str] = None, **more: Any) -> dict:
    """The JSON document of a job: what ran where, and one entry per method
    with the fields :data:`JSON_FIELDS` plus ``available`` and ``config``."""
    import torch

    import ibmb

    methods = []
    for r in results:
        d = {k: getattr(r, k) for k in JSON_FIELDS}
        d["available"] = r.available
        d["config"] = config
        methods.append(d)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    doc = {"command": command, "ibmb_version": ibmb.__version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                          time.gmtime()),
           "machine": {"host": platform.node(), "cpus": os.cpu_count(), "load_avg": load,
                       "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                       "engine_threads": ibmb.num_threads()},
           "dataset": dataset, "config": config, "baseline": baseline, "methods": methods}
    doc.update(more)
    return _clean(doc)


def write_json(path: str, doc: dict) -> None:
    """Write ``doc`` to ``path`` atomically (a temporary file renamed)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
