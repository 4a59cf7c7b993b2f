#!/usr/bin/env bash
# PyG's optional native backends that the baselines need (`ibmb train|bench --method neighbor|cluster`,
# pyg-ibmb-batch, benchmarks/bench_batching.py): torch_scatter 2.1.2 and torch_sparse 0.6.18 with METIS.
# `make deps` (so `make run` and `make test`) runs it; by hand: bash benchmarks/install_pyg_metis.sh [install]
#
# Neither has wheels on PyPI for recent torch releases (and pyg-lib is not on PyPI at all), so both are built from
# their PyPI sdists against the torch installed for $PYTHON: 20-40 minutes on 2 cores. That happens once per
# machine: the verified wheels go to a cache keyed by torch version, Python tag and platform,
#   ${IBMB_WHEEL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/ibmb/wheels}/torch-<version>-<python tag>-<platform>-<recipe>/
# and later runs (a fresh venv too) install from there in seconds. A failed build stops with the log's tail.
#
# METIS: torch_sparse's csrc/cpu/metis_cpu.cpp passes int64 rowptr/col straight to METIS as idx_t*, so it needs
# METIS built with IDXTYPEWIDTH=64 (Debian's libmetis-dev is 32-bit). The METIS 5.1.0 + GKlib sources come from
# pymetis's PyPI sdist and are built as a static, position-independent libmetis.a that torch_sparse links in with
# its symbols hidden, so no 32-bit libmetis elsewhere on the system can be picked at run time or interpose. Every
# wheel set is verified before it enters the cache (installed into a scratch folder: METIS must split two cliques,
# libmetis must not be a dynamic dependency), and every install is verified again.
#
# Commands: install (default: build if not cached, install, verify), build (fill the cache only), check (verify
#           what $PYTHON imports; exit 1 if it fails), path (print this interpreter's cache folder).
# Environment: PYTHON (default python3), IBMB_WHEEL_CACHE (cache root), MAX_JOBS (default: all cores),
#              FORCE_ONLY_CPU (default 1: CPU kernels, all the loaders use), METIS_PREFIX (default: scratch folder).
# Needs: gcc/g++ (apt-get installs them when missing and run as root), Python headers, torch.
set -euo pipefail

CMD=${1:-install}
PYTHON=${PYTHON:-python3}
PYMETIS_VERSION=2023.1.1 # setuptools-based sdist: downloading it compiles nothing (2025.x builds itself for its metadata)
TORCH_SPARSE_VERSION=0.6.18
TORCH_SCATTER_VERSION=2.1.2
# Part of the cache key: change it whenever the build recipe changes what the wheels hold.
RECIPE=sparse${TORCH_SPARSE_VERSION}-scatter${TORCH_SCATTER_VERSION}-metis64-r3
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
export FORCE_ONLY_CPU=${FORCE_ONLY_CPU:-1}

say() { printf '== install_pyg_metis: %s\n' "$*"; }
die() { printf 'install_pyg_metis: %s\n' "$*" >&2; exit 1; }

case $CMD in install | build | check | path) ;; *) die "unknown command '$CMD' (install, build, check or path)" ;; esac

"$PYTHON" -c 'import torch' 2>/dev/null ||
    die "torch is not importable by $PYTHON: install the project's Python packages first (make deps)"
KEY=$("$PYTHON" -c 'import sys, sysconfig, torch
print(f"torch-{torch.__version__}-{sys.implementation.cache_tag}-{sysconfig.get_platform()}")')-$RECIPE
CACHE_ROOT=${IBMB_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ibmb/wheels}
CACHE=$CACHE_ROOT/$KEY

# check [DIR]: torch_sparse (imported from DIR when given) partitions with METIS, linked statically.
check() {
    PYTHONPATH=${1:-}${1:+:}${PYTHONPATH:-} "$PYTHON" - <<'EOF'
import glob, os, subprocess, sys
import torch
import torch_scatter, torch_sparse
from torch_sparse import SparseTensor

# Two 50-node cliques joined by one edge: METIS must split them apart.
a = torch.arange(50)
src = torch.cat([a.repeat_interleave(50), (a + 50).repeat_interleave(50), torch.tensor([0, 50])])
dst = torch.cat([a.repeat(50), (a + 50).repeat(50), torch.tensor([50, 0])])
keep = src != dst
adj = SparseTensor.from_edge_index(torch.stack([src[keep], dst[keep]]), sparse_sizes=(100, 100))
try:
    _, partptr, perm = adj.partition(num_parts=2, recursive=False, weighted=False)
except RuntimeError as e:
    sys.exit(f"torch_sparse {torch_sparse.__version__} at {torch_sparse.__file__} has no METIS: {e}")
parts = torch.empty(100, dtype=torch.long)
for p in range(2):
    parts[perm[partptr[p]:partptr[p + 1]]] = p
if not (len(parts[:50].unique()) == 1 and len(parts[50:].unique()) == 1 and parts[0] != parts[50]):
    sys.exit(f"METIS did not split two cliques: {parts.tolist()}")
so = glob.glob(os.path.join(os.path.dirname(torch_sparse.__file__), "_metis_cpu*.so"))
ldd = subprocess.run(["ldd", so[0]], capture_output=True, text=True).stdout if so else ""
if not so or "libmetis" in ldd:
    sys.exit(f"torch_sparse's METIS module is missing or links libmetis dynamically: {so} {ldd}")
print(f"ok: torch {torch.__version__}, torch_scatter {torch_scatter.__version__}, torch_sparse "
      f"{torch_sparse.__version__} with METIS (static) from {os.path.dirname(torch_sparse.__file__)}")
EOF
}

cached() { # the cache holds both wheels and their checksums match the manifest
    [[ -f $CACHE/MANIFEST ]] && (cd "$CACHE" && sha256sum --quiet -c MANIFEST) >/dev/null 2>&1 &&
        compgen -G "$CACHE/torch_sparse-*.whl" >/dev/null && compgen -G "$CACHE/torch_scatter-*.whl" >/dev/null
}

# run LOG STEP CMD...: run CMD with its output in LOG; on failure print the log's tail and stop.
run() {
    local log=$1 step=$2
    shift 2
    if ! "$@" >>"$log" 2>&1; then
        echo "---- last 60 lines of $log" >&2
        tail -n 60 "$log" >&2
        die "$step failed (full log: $log)"
    fi
}

build() {
    local work log t0 metis src
    t0=$(date +%s)
    mkdir -p "$CACHE_ROOT"
    work=$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")
    trap 'rm -rf "'"$work"'"' EXIT
    log=$CACHE_ROOT/build-$KEY-$(date +%Y%m%dT%H%M%S).log
    say "building torch_scatter $TORCH_SCATTER_VERSION + torch_sparse $TORCH_SPARSE_VERSION with METIS for $KEY"
    say "once per machine, 20-40 minutes on 2 cores (MAX_JOBS=$MAX_JOBS); log: $log"
    local missing=()
    for tool in gcc g++ ar; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if ((${#missing[@]})); then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            run "$log" "apt-get update" apt-get update -qq
            run "$log" "apt-get install build-essential" \
                env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential
        else
            die "missing: ${missing[*]} (install build-essential)"
        fi
    fi
    "$PYTHON" -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' ||
        die "Python headers missing for $PYTHON (Debian: apt-get install python3-dev)"

    say "METIS 5.1.0 (64-bit idx_t) from the pymetis $PYMETIS_VERSION sdist"
    metis=${METIS_PREFIX:-$work/metis}
    run "$log" "downloading the pymetis sdist" "$PYTHON" -m pip download --no-cache-dir --no-deps --no-binary pymetis \
        -d "$work" "pymetis==$PYMETIS_VERSION"
    local sdist
    sdist=$(compgen -G "$work/[Pp]y[Mm]etis-$PYMETIS_VERSION.tar.gz") || die "pip download gave no pymetis sdist"
    tar xzf "$sdist" -C "$work"
    src=$(compgen -G "$work/[Pp]y[Mm]etis-$PYMETIS_VERSION/src/metis") || die "no METIS sources in $sdist"
    sed -i -E 's/^#define IDXTYPEWIDTH [0-9]+/#define IDXTYPEWIDTH 64/; s/^#define REALTYPEWIDTH [0-9]+/#define REALTYPEWIDTH 32/' \
        "$src/include/metis.h"
    # GKlib + libmetis compiled straight into a static, position-independent libmetis.a (the sdist ships no CMake
    # files; the flags are those of METIS's own GKlibSystem.cmake on Linux, plus pymetis's HAVE_MREMAP=0).
    mkdir -p "$metis/include" "$metis/lib" "$work/metis-obj"
    cp "$src/include/metis.h" "$metis/include/"
    (cd "$src" && ls GKlib/*.c libmetis/*.c) >"$work/metis-sources"
    run "$log" "compiling METIS" xargs -P "$MAX_JOBS" -I{} -a "$work/metis-sources" sh -c \
        'gcc -O3 -fPIC -std=gnu99 -fno-strict-aliasing -DNDEBUG -DNDEBUG2 -DLINUX -D_FILE_OFFSET_BITS=64 -DHAVE_MREMAP=0 \
         -I"$0/include" -I"$0/GKlib" -I"$0/libmetis" -c "$0/{}" -o "$1/$(echo {} | tr / _).o"' "$src" "$work/metis-obj"
    run "$log" "archiving METIS" ar rcs "$metis/lib/libmetis.a" "$work"/metis-obj/*.o
    printf '#include <stdint.h>\n#include <metis.h>\n_Static_assert(IDXTYPEWIDTH == 64 && sizeof(idx_t) == sizeof(int64_t), "idx_t is not 64-bit");\nint main(void) { idx_t o[METIS_NOPTIONS]; return METIS_SetDefaultOptions(o) == METIS_OK ? 0 : 1; }\n' \
        >"$work/check.c"
    run "$log" "checking METIS's 64-bit idx_t" gcc -I"$metis/include" "$work/check.c" -o "$work/check" \
        "$metis/lib/libmetis.a" -lm
    run "$log" "running the METIS check" "$work/check"

    # CFLAGS/CXXFLAGS: Python's build flags without -g (debug information makes these template-heavy builds slower
    # and the wheels larger); setuptools either replaces its flags with them or appends them: both give -O3 -g0.
    # Include/library paths reach the build through CPATH/LIBRARY_PATH (searched before the system's) and LDFLAGS;
    # -Wl,--exclude-libs,ALL keeps METIS's symbols out of the dynamic symbol table.
    local penv=(env "CFLAGS=-DNDEBUG -fwrapv -O3 -g0" "CXXFLAGS=-DNDEBUG -fwrapv -O3 -g0"
        "LDFLAGS=-L$metis/lib -Wl,--exclude-libs,ALL ${LDFLAGS:-}"
        "CPATH=$metis/include${CPATH:+:$CPATH}" "LIBRARY_PATH=$metis/lib${LIBRARY_PATH:+:$LIBRARY_PATH}")
    # torch_scatter turns ninja off, so each extension's files compile one after another: build_ext's `parallel`
    # (through DIST_EXTRA_CONFIG) builds MAX_JOBS of its extensions at once. torch_sparse compiles with ninja
    # (MAX_JOBS files at once; from pip into the scratch folder when the system has none), and there `parallel`
    # must stay off: concurrent extensions share one build.ninja and break each other's builds.
    printf '[build_ext]\nparallel = %s\n' "$MAX_JOBS" >"$work/parallel.cfg"
    if ! command -v ninja >/dev/null; then
        run "$log" "installing ninja (build tool) into the scratch folder" \
            "$PYTHON" -m pip install -q --no-cache-dir --target "$work/tools" ninja
    fi
    local wheel=("$PYTHON" -m pip wheel --no-cache-dir --no-build-isolation --no-deps -w "$work/wheels")
    say "torch_scatter $TORCH_SCATTER_VERSION from its sdist"
    run "$log" "building torch_scatter" "${penv[@]}" "DIST_EXTRA_CONFIG=$work/parallel.cfg" "${wheel[@]}" \
        --no-binary torch_scatter \
        "torch_scatter==$TORCH_SCATTER_VERSION"
    say "torch_sparse $TORCH_SPARSE_VERSION from its sdist with WITH_METIS=1"
    run "$log" "building torch_sparse" "${penv[@]}" "PATH=$work/tools/bin:$PATH" \
        "PYTHONPATH=$work/tools${PYTHONPATH:+:$PYTHONPATH}" WITH_METIS=1 "${wheel[@]}" --no-binary torch_sparse \
        "torch_sparse==$TORCH_SPARSE_VERSION"

    say "verifying the wheels before caching them"
    run "$log" "installing the wheels into a scratch folder" "$PYTHON" -m pip install -q --no-cache-dir --no-index \
        --no-deps --target "$work/verify" "$work"/wheels/*.whl
    run "$log" "the METIS check of the new wheels" check "$work/verify"
    (cd "$work/wheels" && sha256sum ./*.whl >MANIFEST)
    {
        echo "# $KEY: built $(date -u +%FT%TZ) in $(($(date +%s) - t0)) s on $(nproc) cores (MAX_JOBS=$MAX_JOBS, load: $(cut -d' ' -f1-3 /proc/loadavg))"
        echo "# verified: METIS (64-bit idx_t, static) split two cliques"
    } >"$work/wheels/BUILD_INFO"
    rm -rf "$CACHE"
    mv "$work/wheels" "$CACHE" # same file system: the cache folder appears whole or not at all
    rm -rf "$work"
    say "cached in $CACHE ($(($(date +%s) - t0)) s)"
}

case $CMD in
path) echo "$CACHE"; exit 0 ;;
check) check; exit ;;
esac

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock-$KEY" # one build per key at a time; others wait for it and then use its wheels
flock 9
if cached; then
    say "cached wheels: $CACHE"
else
    [[ -e $CACHE ]] && say "cache entry $CACHE is incomplete or corrupt: rebuilding"
    build
fi
flock -u 9
[[ $CMD == build ]] && exit 0

if "$PYTHON" -c "import sys, torch_sparse, torch_scatter as s; sys.exit(torch_sparse.__version__ != '$TORCH_SPARSE_VERSION' or s.__version__ != '$TORCH_SCATTER_VERSION')" 2>/dev/null &&
    out=$(check 2>&1); then
    say "already installed: $out"
else
    say "installing from $CACHE"
    "$PYTHON" -m pip install -q --no-index --no-deps --force-reinstall "$CACHE"/*.whl
    check || die "the installed torch_sparse fails the METIS check (cache: $CACHE; rebuild: rm -rf '$CACHE')"
fi
