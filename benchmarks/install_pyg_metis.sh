#!/usr/bin/env bash
# Benchmark environments only (CI does not run this): build torch_sparse with METIS so that PyG's
# IBMBBatchLoader (SparseTensor.partition) can run beside ibmb in benchmarks/bench_batching.py.
#
# torch_sparse 0.6.18 and torch_scatter 2.1.2 have no wheels on PyPI for recent torch releases, so both are
# built from their PyPI sdists against the torch already installed (torch and torch_geometric are left alone).
# torch_sparse's METIS code (csrc/cpu/metis_cpu.cpp) passes int64 rowptr/col straight to METIS as idx_t*, so it
# needs METIS built with IDXTYPEWIDTH=64; Debian's libmetis-dev is 32-bit. The METIS 5.1.0 + GKlib sources come
# from pymetis's PyPI sdist (which ships them with IDXTYPEWIDTH 64) and are built as a static, position-independent
# libmetis.a into $METIS_PREFIX; torch_sparse links it in with its symbols hidden, so a 32-bit libmetis.so elsewhere
# on the system can neither be picked at run time nor interpose.
#
# Needs: Debian/Ubuntu-like Linux, gcc/g++, make, cmake (installed with apt-get when missing and run as root),
# Python with pip, torch installed (the README's first command installs it), Python headers.
#
# Usage: bash benchmarks/install_pyg_metis.sh
# Environment: PYTHON (default python3), METIS_PREFIX (default /opt/metis64), MAX_JOBS (default: all cores),
#              FORCE_ONLY_CPU (default 1: CPU kernels only, which is all the IBMB loaders use),
#              REBUILD_SCATTER=1 to rebuild torch_scatter even when it imports.
set -euo pipefail

PYTHON=${PYTHON:-python3}
METIS_PREFIX=${METIS_PREFIX:-/opt/metis64}
PYMETIS_VERSION=2025.2.2
TORCH_SPARSE_VERSION=0.6.18
TORCH_SCATTER_VERSION=2.1.2
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
export FORCE_ONLY_CPU=${FORCE_ONLY_CPU:-1}

say() { printf '\n== %s\n' "$*"; }
trap 'echo "install_pyg_metis.sh: failed at line $LINENO" >&2' ERR

say "prerequisites"
missing=()
for tool in gcc g++ make cmake; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential cmake
    else
        echo "missing: ${missing[*]} (install build-essential and cmake)" >&2
        exit 1
    fi
fi
"$PYTHON" -c 'import torch; print("torch", torch.__version__)' || {
    echo "torch is not installed for $PYTHON: install the project's Python packages first" >&2
    exit 1
}
"$PYTHON" -c 'import os, sysconfig; p = sysconfig.get_paths()["include"]; assert os.path.exists(os.path.join(p, "Python.h")), p' || {
    echo "Python headers missing (Debian: apt-get install python3-dev)" >&2
    exit 1
}

WORK=$(mktemp -d /tmp/pyg-metis.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

say "METIS 5.1.0 (64-bit idx_t) from the pymetis $PYMETIS_VERSION sdist into $METIS_PREFIX"
# --no-binary pymetis: the sdist (with METIS + GKlib sources); its build backend is fetched only to read metadata.
"$PYTHON" -m pip download --no-cache-dir --no-deps --no-binary pymetis -d "$WORK" "pymetis==$PYMETIS_VERSION"
tar xzf "pymetis-$PYMETIS_VERSION.tar.gz"
SRC="$WORK/pymetis-$PYMETIS_VERSION/src/metis"
sed -i -E 's/^#define IDXTYPEWIDTH [0-9]+/#define IDXTYPEWIDTH 64/; s/^#define REALTYPEWIDTH [0-9]+/#define REALTYPEWIDTH 32/' \
    "$SRC/include/metis.h"
# CMAKE_POLICY_VERSION_MINIMUM lets CMake >= 4 accept METIS's cmake_minimum_required(2.8); older CMake ignores it.
cmake -S "$SRC" -B "$WORK/metis-build" -DCMAKE_BUILD_TYPE=Release -DSHARED=OFF -DGKLIB_PATH="$SRC/GKlib" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
    -DCMAKE_INSTALL_PREFIX="$METIS_PREFIX" >"$WORK/metis.log" 2>&1 || { tail -40 "$WORK/metis.log"; exit 1; }
cmake --build "$WORK/metis-build" -j "$MAX_JOBS" >>"$WORK/metis.log" 2>&1 || { tail -40 "$WORK/metis.log"; exit 1; }
cmake --install "$WORK/metis-build" >>"$WORK/metis.log" 2>&1 || { tail -40 "$WORK/metis.log"; exit 1; }
printf '#include <stdint.h>\n#include <metis.h>\n_Static_assert(IDXTYPEWIDTH == 64 && sizeof(idx_t) == sizeof(int64_t), "idx_t is not 64-bit");\nint main(void) { idx_t o[METIS_NOPTIONS]; return METIS_SetDefaultOptions(o) == METIS_OK ? 0 : 1; }\n' \
    >"$WORK/check.c"
gcc -I"$METIS_PREFIX/include" "$WORK/check.c" -o "$WORK/check" "$METIS_PREFIX/lib/libmetis.a" -lm
"$WORK/check"
echo "ok: $METIS_PREFIX/lib/libmetis.a, $METIS_PREFIX/include/metis.h (IDXTYPEWIDTH 64)"

# The include/library paths reach the extension builds through CFLAGS/LDFLAGS (setuptools adds them to every
# compile and link) and CPATH/LIBRARY_PATH (searched before /usr/include and the system library directories).
# -Wl,--exclude-libs,ALL keeps the static METIS symbols out of the extension's dynamic symbol table.
export CFLAGS="-I$METIS_PREFIX/include ${CFLAGS:-}"
export LDFLAGS="-L$METIS_PREFIX/lib -Wl,--exclude-libs,ALL ${LDFLAGS:-}"
export CPATH="$METIS_PREFIX/include${CPATH:+:$CPATH}"
export LIBRARY_PATH="$METIS_PREFIX/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
# --no-cache-dir: never reuse a wheel cached from an earlier build without METIS.
PIP_SRC_INSTALL=("$PYTHON" -m pip install --no-cache-dir --no-build-isolation --no-deps --force-reinstall)

if [[ ${REBUILD_SCATTER:-0} == 1 ]] || ! "$PYTHON" -c 'import torch_scatter' 2>/dev/null; then
    say "torch_scatter $TORCH_SCATTER_VERSION from source (torch_sparse imports it; about 10 minutes on 2 cores)"
    "${PIP_SRC_INSTALL[@]}" --no-binary torch_scatter "torch_scatter==$TORCH_SCATTER_VERSION"
else
    say "torch_scatter already importable: kept"
fi

say "torch_sparse $TORCH_SPARSE_VERSION from source with WITH_METIS=1 (about 10 minutes on 2 cores)"
WITH_METIS=1 "${PIP_SRC_INSTALL[@]}" --no-binary torch_sparse "torch_sparse==$TORCH_SPARSE_VERSION"

say "check"
"$PYTHON" - <<'EOF'
import glob, os, subprocess
import torch
import torch_sparse
import torch_geometric.typing as tgt
from torch_sparse import SparseTensor

# Two 50-node cliques joined by one edge: METIS must split them apart.
n = 100
a = torch.arange(50)
src = torch.cat([a.repeat_interleave(50), (a + 50).repeat_interleave(50), torch.tensor([0, 50])])
dst = torch.cat([a.repeat(50), (a + 50).repeat(50), torch.tensor([50, 0])])
keep = src != dst
adj = SparseTensor.from_edge_index(torch.stack([src[keep], dst[keep]]), sparse_sizes=(n, n))
_, partptr, perm = adj.partition(num_parts=2, recursive=False, weighted=False)
parts = torch.empty(n, dtype=torch.long)
for p in range(2):
    parts[perm[partptr[p]:partptr[p + 1]]] = p
assert sorted(parts[:50].unique().tolist() + parts[50:].unique().tolist()) == [0, 1], parts
so = glob.glob(os.path.join(os.path.dirname(torch_sparse.__file__), "_metis_cpu*.so"))[0]
ldd = subprocess.run(["ldd", so], capture_output=True, text=True).stdout
assert "libmetis" not in ldd, ldd
print(f"ok: torch {torch.__version__}, torch_sparse {torch_sparse.__version__} with METIS: split two cliques into "
      f"parts {parts[0].item()} / {parts[50].item()}; libmetis linked statically")
# PyG 2.8's torch_geometric.typing.WITH_METIS reports pyg_lib's METIS, not torch_sparse's: PyG's IBMB loaders and
# SparseTensor.partition use torch_sparse's, so it may well stay False (pyg_lib has no PyPI wheels).
print(f"torch_geometric.typing: WITH_TORCH_SPARSE {tgt.WITH_TORCH_SPARSE}, WITH_METIS {tgt.WITH_METIS} (pyg_lib's)")
EOF
