#!/usr/bin/env bash
# `make device-check`: prepare, here, everything the GPU machine needs to run benchmarks/device_check.sh.
#
# The GPU machine has Python 3.12 with torch and PyG, gcc and nvcc, but no Go and no network, and takes at most
# 64 MiB of carried files. The engine is one gopy extension: Go code, its cgo glue (which includes Python.h and
# calls the CPython API) and pybindgen's C module, linked by one `go build -buildmode=c-shared`. So it is built
# here, completely, against the headers of a CPython of the GPU machine's minor version (3.12; any 3.12.x: the C
# API and ABI hold within a minor version): the result (~7 MiB) does not link libpython and needs only glibc, so
# it loads in the GPU machine's interpreter. It goes to .device-check/ (git-ignored) with a manifest naming the
# hash of the Go/C/CUDA sources it was built from, which the device run compares with its own tree.
#
# Steps: find a CPython $DEVICE_PY_VERSION (DEVICE_PYTHON, pythonX.Y on PATH, pyenv, uv), make a venv with
# pybindgen for gopy, build with gopy (the same flags as setup.py's build_engine), stage, check that it loads and
# works in that interpreter (gather, PPR, batches against numpy) and that the carried size fits, then print the
# device command. Environment: DEVICE_PY_VERSION (default 3.12), DEVICE_PYTHON (an interpreter of that version).
set -euo pipefail
cd "$(dirname "$0")/.."
V=${DEVICE_PY_VERSION:-3.12}
STAGE=.device-check
BUILD=_build/device
say() { printf '== device_prep: %s\n' "$*"; }
die() { printf 'device_prep: %s\n' "$*" >&2; exit 1; }

find_python() {
    local c
    for c in "${DEVICE_PYTHON:-}" "$(command -v "python$V" || true)" \
        $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$V".*/bin/python"$V" 2>/dev/null | sort -V -r) \
        "$(command -v uv >/dev/null && uv python find "$V" 2>/dev/null || true)"; do
        [[ -n $c && -x $c ]] || continue
        if "$c" -c "import os, sys, sysconfig; assert '%d.%d' % sys.version_info[:2] == '$V'; \
assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))" 2>/dev/null; then
            echo "$c"
            return
        fi
    done
    die "no CPython $V with its headers found (the GPU machine's Python is $V): set DEVICE_PYTHON, or install one
  (pyenv install $V, uv python install $V, or apt-get install python$V-dev where the distribution has it)"
}

PY=$(find_python)
say "CPython $("$PY" -c 'import platform; print(platform.python_version())') headers: $PY"
VENV=$BUILD/venv$V
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import pybindgen, numpy' 2>/dev/null; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q pybindgen==0.22.1 "setuptools>=70,<82" wheel numpy
fi

say "building the engine for Python $V with gopy"
t0=$(date +%s)
export PATH=$PWD/_build/bin:$PATH CGO_ENABLED=1
go build -o _build/bin/goimports golang.org/x/tools/cmd/goimports
rm -rf "$BUILD/gopy"
# The same gopy flags as setup.py's build_engine (keep them in step); the output folder sits inside the module.
go tool gopy build -output="$BUILD/gopy" -vm="$PWD/$VENV/bin/python" -name=engine -package-prefix=ibmb._core \
    -dynamic-link=true -no-make=true ./bindings >"$BUILD/gopy.log" 2>&1 || { tail -40 "$BUILD/gopy.log"; die "gopy build failed"; }
SUFFIX=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
SO=$BUILD/gopy/_engine$SUFFIX
[[ -f $SO ]] || die "gopy built no $SO (see $BUILD/gopy.log)"
if ldd "$SO" | grep -q libpython; then
    die "$SO links libpython: it would not load in another interpreter ($(ldd "$SO" | grep libpython))"
fi

rm -rf "$STAGE"
mkdir -p "$STAGE/_core"
cp "$SO" "$BUILD/gopy/bindings.py" "$BUILD/gopy/go.py" "$STAGE/_core/"
"$VENV/bin/python" - "$STAGE" "$SO" "$(go version)" "$(python3 benchmarks/device_check.py --source-hash)" <<'EOF'
import hashlib, json, os, platform, sys, time
stage, so, go, src = sys.argv[1:]
data = open(so, "rb").read()
m = {"built": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "python_headers": platform.python_version(), "go": go,
     "so": {"name": os.path.basename(so), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()},
     "source_hash": src}
json.dump(m, open(os.path.join(stage, "MANIFEST.json"), "w"), indent=1)
EOF
say "built in $(($(date +%s) - t0)) s: $(du -sh "$STAGE" | cut -f1) in $STAGE"

say "checking that it loads and works in Python $V"
rm -rf "$BUILD/site"
mkdir -p "$BUILD/site"
cp -r python/ibmb "$BUILD/site/ibmb"
rm -f "$BUILD/site/ibmb/_core/"_engine*.so
cp "$STAGE/_core/"* "$BUILD/site/ibmb/_core/"
PYTHONPATH=$BUILD/site "$VENV/bin/python" - <<'EOF'
import numpy as np
import ibmb
from ibmb.batching import Arena, node_wise
from ibmb.graph import CSRGraph

x = np.random.default_rng(0).standard_normal((10_000, 32), dtype=np.float32)
idx = np.random.default_rng(1).integers(0, 10_000, 5_000)
assert np.array_equal(ibmb.gather(x, idx), x[idx])
d = ibmb.datasets.csbm(num_nodes=5_000, num_features=8)
g = CSRGraph.from_edge_index(d.edge_index, d.num_nodes, symmetrize=True, add_self_loops=True)
res = ibmb.ppr.node_ppr(g, np.arange(100), alpha=0.25, eps=1e-4, topk=16)
assert res.num_rows == 100 and (res.scores > 0).all()
b = node_wise(g, np.arange(0, 5_000, 10), num_auxiliary_nodes=8, num_nodes_per_batch=128, alpha=0.25, eps=2e-4)
arena = Arena.build(g, b, x=d.x, y=d.y, norm="sym")
assert np.array_equal(arena[0].x, d.x[arena[0].n_id])
print(f"ok: ibmb {ibmb.__version__} under Python {__import__('platform').python_version()}: gather, PPR, "
      f"{len(b)} batches; CUDA here: {ibmb.cuda_status() or 'available'}")
EOF

tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
carried=$(du -sb "$STAGE" | cut -f1)
total=$((tree + carried))
say "what travels: tree $((tree / 1048576)) MiB + $STAGE $((carried / 1048576)) MiB = $((total / 1048576)) MiB (limit 64 MiB)"
((total < 64 * 1048576)) || die "over the device machine's 64 MiB limit"
cat <<EOF
== device_prep: ready. On the GPU machine (device tool, from this repository's root):
     run(command="bash benchmarks/device_check.sh", carry=["$STAGE"], timeout_s=600)
   It writes report.json, report.md, device_check.log and the plots to \$OUT within 8 minutes.
   Rebuild (make device-check) after any Go/C/CUDA change: the device run compares the source hash.
EOF
