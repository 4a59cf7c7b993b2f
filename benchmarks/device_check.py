#!/usr/bin/env python3
"""Check every CUDA path of ibmb on a GPU machine, in one bounded command, and
write the report (report.json, report.md, device_check.log and the plots) to
``--out`` (``$OUT`` on the device machine).

    make device-check                          # here: builds the engine for the GPU machine's Python (.device-check/)
    bash benchmarks/device_check.sh            # there (device tool: carry .device-check), within 8 minutes
    python benchmarks/device_check.py --dry-run --out DIR    # anywhere: no GPU needed

Each part (env, gather, ppr, loaders, nvml, train, histories, distributed;
see device_parts.py) runs in its own subprocess under a time limit, so a part that
fails, crashes (a fault in a kernel) or hangs is reported and the others still
run. Without a GPU (or with ``--dry-run``) the device work is reported as
"skipped" with the reason while the CPU references are still computed: `make
test` runs the dry run (tests/test_device_check.py), so the script cannot rot.
Exit status: 0 when no part failed, errored or timed out.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
from multiprocessing import forkserver
import json
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = 1
# (part, time limit in seconds): 465 s in all, so that with the start-up (one import of torch and PyG, timed in the
# report) the run ends within 8 minutes.
PARTS = (("env", 20), ("gather", 45), ("ppr", 70), ("loaders", 70), ("nvml", 35), ("train", 150), ("histories", 40),
         ("distributed", 35))
STATUSES = ("pass", "fail", "skipped", "error", "timeout", "not_implemented")
BAD = ("fail", "error", "timeout")
# The Go/C/CUDA sources the engine is built from: their hash ties a carried engine to the tree it was built from.
SOURCE_DIRS = ("bindings", "gopkg", "kernels", "csrc", "cuda", "internal")
SOURCE_SUFFIXES = (".go", ".c", ".h", ".cu", ".cuh", ".s")


def source_hash(root: Path = ROOT) -> str:
    """sha256 over the engine's sources (names and contents, sorted), go.mod and go.sum."""
    files = [root / "go.mod", root / "go.sum"]
    for d in SOURCE_DIRS:
        files += [p for p in (root / d).rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file()]
    h = hashlib.sha256()
    for p in sorted(set(files)):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _child(name: str, dry: bool, out: str, res_file: str, log_file: str) -> None:
    """A part's process: its own session (so a timeout kills what it started), output into its log."""
    os.setsid()
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import device_parts

    res = device_parts.run_part(name, dry=dry, out=Path(out))
    Path(res_file).write_text(json.dumps(res, indent=1, default=str))


def _run_part(mp: Any, name: str, limit: float, dry: bool, out: Path, tmp: Path, log: Any) -> dict:
    """Run one part in a child process; its result, or an error/timeout record."""
    res_file, part_log = tmp / f"{name}.json", tmp / f"{name}.log"
    t = time.perf_counter()
    p = mp.Process(target=_child, args=(name, dry, str(out), str(res_file), str(part_log)), name=f"part-{name}")
    p.start()
    p.join(limit)
    status = None
    if p.is_alive():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)  # the part and anything it started
        p.join()
        status = "timeout"
    rc = p.exitcode
    seconds = time.perf_counter() - t
    text = part_log.read_text(errors="replace") if part_log.is_file() else ""
    log.write(f"\n===== part {name} ({seconds:.1f} s, exit code {rc}) =====\n{text}")
    log.flush()
    if status == "timeout":
        res = {"status": "timeout", "reason": f"did not finish within its {limit:.0f} s limit"}
    elif res_file.is_file():
        res = json.loads(res_file.read_text())
    else:
        sig = f" (signal {-rc})" if rc is not None and rc < 0 else ""
        res = {"status": "error", "reason": f"the part's process ended with exit code {rc}{sig} and no result"}
    res.update(seconds=round(seconds, 2), limit_s=limit)
    if res["status"] in BAD:
        res["log_tail"] = "\n".join(text.splitlines()[-25:])
    return res


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def markdown(report: dict) -> str:
    """The report as markdown: a table of the parts, then each part's checks and figures."""
    lines = [f"# ibmb device check: {report['mode']}", "",
             f"{report['started']}, {report['seconds']:.0f} s (start-up {report['startup_s']} s"
             f"{'' if report['complete'] else ', STOPPED before the end'}); machine: {_fmt(report['machine'])}", "",
             "| part | status | seconds | reason |", "| --- | --- | --- | --- |"]
    for name, r in report["parts"].items():
        lines.append(f"| {name} | {r['status']} | {r['seconds']:.1f} | {r.get('reason', '')} |")
    lines += ["", "Summary: " + ", ".join(f"{k} {v}" for k, v in report["summary"].items() if v)]
    for name, r in report["parts"].items():
        lines += ["", f"## {name}: {r['status']}"]
        if r.get("reason"):
            lines.append(f"Reason: {r['reason']}")
        for key in ("checks", "figures", "cpu_reference"):
            if r.get(key):
                lines += ["", f"{key.replace('_', ' ').capitalize()}:", ""]
                lines += [f"- {k}: {_fmt(v)}" for k, v in r[key].items()]
        if r.get("log_tail"):
            lines += ["", "```", r["log_tail"], "```"]
    if report["unverified"]:
        lines += ["", "## Not verified on a GPU in this run", ""] + [f"- {u}" for u in report["unverified"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", default=os.environ.get("OUT", "device-check-out"), help="report folder (default: $OUT)")
    p.add_argument("--dry-run", action="store_true", help="no GPU work: device parts skipped, CPU references run")
    p.add_argument("--parts", default=",".join(n for n, _ in PARTS), help="comma-separated subset of the parts")
    p.add_argument("--source-hash", action="store_true", help="print the engine sources' hash and exit")
    args = p.parse_args(argv)
    if args.source_hash:
        print(source_hash())
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for n in args.parts.split(",") if n.strip()]
    limits = dict(PARTS)
    unknown = [n for n in names if n not in limits]
    if unknown:
        p.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(limits)}")
    t0, started = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M:%S %Z")
    dry, mode = args.dry_run, "dry run (--dry-run)" if args.dry_run else "GPU run"
    parts: dict[str, dict] = {}
    # Parts run in processes forked from a server that imported torch and PyG once (not ibmb: the Go runtime must
    # never be forked), so each part starts in a moment; a dry run's limits are wider (a loaded CI machine).
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["numpy", "scipy.sparse", "torch", "torch_geometric"])
    t = time.perf_counter()
    forkserver.ensure_running()
    startup = round(time.perf_counter() - t, 1)
    print(f"device_check: start-up (torch and PyG imported once) {startup} s", flush=True)
    src = source_hash()

    def write_report(done: bool) -> dict:
        """report.json and report.md as they stand (after every part, so a run stopped from outside leaves one)."""
        summary = {s: sum(r["status"] == s for r in parts.values()) for s in STATUSES}
        unverified = [f"{n}: {r.get('reason', '')}" for n, r in parts.items()
                      if r["status"] in ("skipped", "not_implemented")]
        unverified += [f"{n}: not run (the check was stopped)" for n in names if n not in parts]
        report = {"schema": SCHEMA, "mode": mode, "dry_run": dry, "complete": done, "started": started,
                  "seconds": round(time.perf_counter() - t0, 1), "startup_s": startup, "source_hash": src,
                  "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                              "load": round(os.getloadavg()[0], 2)},
                  "parts": parts, "summary": summary, "unverified": unverified}
        (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
        (out / "report.md").write_text(markdown(report))
        return report

    with tempfile.TemporaryDirectory(prefix="ibmb-device-check-") as tmp, open(out / "device_check.log", "w") as log:
        for name in names:
            print(f"device_check: {name} ...", flush=True)
            r = _run_part(mp, name, limits[name] * (3 if dry else 1), dry, out, Path(tmp), log)
            parts[name] = r
            print(f"device_check: {name}: {r['status']} ({r['seconds']:.1f} s) {r.get('reason', '')}", flush=True)
            if name == "env" and not dry and not r.get("figures", {}).get("cuda_device"):
                # No GPU here: the rest runs as a dry run (the reason is in env's figures).
                dry = True
                mode = f"dry run (automatic: {r.get('figures', {}).get('no_gpu_reason', 'no GPU')})"
            write_report(False)
    report = write_report(True)
    summary = report["summary"]
    print(f"device_check: {report['seconds']:.0f} s, " + ", ".join(f"{k} {v}" for k, v in summary.items() if v)
          + f"; report: {out / 'report.md'}")
    return 1 if any(summary[s] for s in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
