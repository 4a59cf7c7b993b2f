#!/usr/bin/env bash
# On the GPU machine, from a copy of the repository with .device-check/ carried (made here by `make device-check`):
#     bash benchmarks/device_check.sh [--dry-run] [--parts env,gather,...]
# Installs the carried engine (built for the GPU machine's Python) into python/ibmb/_core and runs
# benchmarks/device_check.py, which writes report.json, report.md, device_check.log and the plots to $OUT
# (default _build/device/out) within 8 minutes. Works anywhere: without a GPU it becomes a dry run.
# Environment: DEVICE_PYTHON (default python3: the one with torch), OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${DEVICE_PYTHON:-python3}
OUT=${OUT:-$PWD/_build/device/out}
mkdir -p "$OUT"
suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))') || exit 2
if [[ -f .device-check/_core/_engine$suffix ]]; then
    cp .device-check/_core/* python/ibmb/_core/
    export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
    echo "device_check.sh: engine carried in .device-check: $(tr -d '\n' <.device-check/MANIFEST.json | cut -c1-300)"
elif [[ -f python/ibmb/_core/_engine$suffix ]]; then
    export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
    echo "device_check.sh: engine built in place (python/ibmb/_core)"
elif "$PY" -c 'import ibmb' 2>/dev/null; then
    echo "device_check.sh: installed ibmb"
else
    echo "device_check.sh: no ibmb engine for $PY (*$suffix): run 'make device-check' where Go is installed and" \
        "carry .device-check" >&2
    exit 2
fi
export PYTHONUNBUFFERED=1
# The script bounds each part (465 s in all, plus one start-up); this bounds everything.
timeout -k 10 "${DEVICE_CHECK_TIMEOUT:-500}" "$PY" benchmarks/device_check.py --out "$OUT" "$@"
rc=$?
((rc == 124 || rc == 137)) && echo "device_check.sh: stopped after ${DEVICE_CHECK_TIMEOUT:-500} s" >&2
exit $rc
