"""Build script: drives gopy and the Go toolchain to build ibmb's engine.

``pip install .`` runs :class:`BuildEngine` before the Python files are
copied: it builds goimports (which gopy calls), then ``gopy build`` on the
Go package ``./bindings``, producing the one extension ``ibmb._core`` (a Go
c-shared library with the CPython glue linked in). Needs Go >= 1.25 and a C
compiler; the Go modules come from the Go module proxy. No CUDA toolkit is
needed: the engine loads the CUDA driver and NVRTC at run time.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parent
CORE = ROOT / "python" / "ibmb" / "_core"


def _run(cmd: list[str], env: dict[str, str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def _check_go() -> str:
    go = shutil.which("go")
    if go is None:
        sys.exit("ibmb: the Go toolchain (>= 1.25) is required to build the engine: https://go.dev/dl/")
    out = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"go(\d+)\.(\d+)", out)
    if m and (int(m.group(1)), int(m.group(2))) < (1, 25):
        sys.exit(f"ibmb: Go >= 1.25 is required, found: {out.strip()}")
    return go


def build_engine() -> None:
    """Build the gopy extension into python/ibmb/_core."""
    go = _check_go()
    build = ROOT / "_build"
    bindir = build / "bin"
    out = build / "gopy"
    env = dict(os.environ)
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    env.setdefault("CGO_ENABLED", "1")
    # csrc/ edits must rebuild the kernels: refresh the glue files' source hashes first (internal/csrchash).
    _run([go, "run", "./internal/csrchash/update"], env)
    _run([go, "build", "-o", str(bindir / "goimports"), "golang.org/x/tools/cmd/goimports"], env)
    shutil.rmtree(out, ignore_errors=True)
    # The output folder must sit inside the module so gopy's `go build` finds go.mod.
    _run([go, "tool", "gopy", "build", f"-output={out.relative_to(ROOT)}", f"-vm={sys.executable}",
          "-name=engine", "-package-prefix=ibmb._core", "-dynamic-link=true", "-no-make=true",
          "./bindings"], env)
    # CORE/__init__.py is tracked; everything else in CORE is generated.
    for f in CORE.iterdir():
        if f.is_dir():
            shutil.rmtree(f)
        elif f.name != "__init__.py":
            f.unlink()
    for f in out.iterdir():
        if f.suffix == ".so" or f.name in ("bindings.py", "go.py"):
            shutil.copy2(f, CORE / f.name)


class BuildEngine(build_py):
    """build_py that first builds the Go engine."""

    def run(self) -> None:
        build_engine()
        super().run()


class BinaryDistribution(Distribution):
    """The wheel holds a native extension, so it is platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


if __name__ == "__main__" and sys.argv[1:] == ["engine"]:
    # `python setup.py engine` (make develop): build the engine in place, for
    # running from the source tree with PYTHONPATH=python.
    build_engine()
else:
    setup(cmdclass={"build_py": BuildEngine}, distclass=BinaryDistribution)
