"""The README's architecture matches the folders (issue 13).

Every Go package directory, every C and CUDA source and every public module
or subpackage of ``python/ibmb`` must be named in README.md, so a new folder
or module cannot land without saying where it sits in the layout.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_spans(text: str) -> set[str]:
    """The README's `code` spans (where folder and module names are written)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # fenced blocks are not spans
    return set(re.findall(r"`([^`\n]+)`", text))


SPANS = _code_spans(README)
MENTIONED = " ".join(SPANS)


def _go_package_dirs() -> list[str]:
    dirs = set()
    for top in ("gopkg", "internal", "kernels", "bindings"):
        for go in (ROOT / top).rglob("*.go"):
            rel = go.parent.relative_to(ROOT)
            if "testdata" in rel.parts:
                continue
            if go.name.endswith("_test.go") and not any(
                    p.name.endswith(".go") and not p.name.endswith("_test.go") for p in go.parent.iterdir()):
                continue  # a folder of tests only
            dirs.add(str(rel))
    return sorted(dirs)


def _python_units() -> list[str]:
    pkg = ROOT / "python" / "ibmb"
    units = []
    for p in sorted(pkg.iterdir()):
        if p.name.startswith(("_", ".")):
            continue
        if p.is_dir() and (p / "__init__.py").exists():
            units.append(p.name)
        elif p.suffix == ".py":
            units.append(p.stem)
    return units


def _named(name: str) -> bool:
    """A folder or module is named by a code span of its own: `gopkg/ppr`, `loader/`, `graph`."""
    return name in SPANS or f"{name}/" in SPANS


@pytest.mark.parametrize("path", _go_package_dirs())
def test_go_package_named(path: str) -> None:
    top = path.split("/")[0]
    if path == top:
        assert _named(path), f"README.md does not name the folder {path!r}"
        return
    # gopkg/ppr/pprcuda by its path; a nested helper package (gopkg/profiling/profilingtest) may be named by its
    # last element in its parent's row
    assert _named(path) or (path.count("/") >= 2 and path.split("/")[-1] in MENTIONED), \
        f"README.md does not name the Go package {path!r}"


@pytest.mark.parametrize("src", sorted(str(p.relative_to(ROOT)) for p in
                                       list((ROOT / "csrc").glob("*.c")) + list((ROOT / "cuda").glob("*.cu"))))
def test_kernel_source_named(src: str) -> None:
    assert Path(src).name in MENTIONED, f"README.md's layout does not name {src!r}"


@pytest.mark.parametrize("unit", _python_units())
def test_python_module_named(unit: str) -> None:
    assert _named(unit), f"README.md's layout does not name python/ibmb/{unit}"


def test_top_level_folders_named() -> None:
    for top in ("gopkg", "internal", "kernels", "csrc", "cuda", "bindings", "python/ibmb", "tests", "benchmarks",
                "examples"):
        assert (ROOT / top).is_dir(), top
        assert _named(top), f"README.md does not name {top!r}"
