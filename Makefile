# ibmb: build, install and test. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
PIP    ?= $(PYTHON) -m pip
GO     ?= go
# Python packages the engine, its tests and its benchmarks need. torch 2.11 is
# the version on the GPU machines; its CUDA wheels bring libnvrtc, which the
# CUDA compile tests use (they run without a GPU).
PY_DEPS = numpy scipy numba matplotlib pybindgen==0.22.1 "setuptools>=70,<82" wheel pytest tqdm ml_dtypes \
          torch==2.11.0 torch_geometric==2.8.1

# Where pip's NVIDIA wheels put libnvrtc (CUDA 13: nvidia/cu13/lib, CUDA 12: nvidia/cuda_nvrtc/lib).
NVRTC_DIRS = $(shell $(PYTHON) -c "import glob,os,site,sys; \
  r=[os.path.join(p,s) for p in site.getsitepackages()+sys.path for s in ('nvidia/cu13/lib','nvidia/cuda_nvrtc/lib')]; \
  print(':'.join(dict.fromkeys(d for d in r if glob.glob(os.path.join(d,'libnvrtc.so*')))))" 2>/dev/null)

# PyG's optional native backends for the baselines (NeighborLoader, ClusterLoader, PyG's IBMB loaders):
# torch_scatter + torch_sparse with METIS, built from their sdists once per machine (~20 min on 2 cores) into a
# wheel cache keyed by torch/Python/platform (IBMB_WHEEL_CACHE, default ~/.cache/ibmb/wheels), then installed from
# there in seconds. BASELINES=0 skips them: the baselines then report "unavailable: ..." and tests do not require them.
BASELINES ?= 1

.PHONY: all deps install develop run test test-go test-py vet bench device-check clean

all: install

deps:
	$(PIP) install -q $(PY_DEPS)
	$(GO) mod download
ifneq ($(BASELINES),0)
	PYTHON=$(PYTHON) bash benchmarks/install_pyg_metis.sh install
endif

install: deps
	$(PIP) install -q --no-build-isolation --force-reinstall --no-deps .

# Build the engine in place (python/ibmb/_core) to run from the source tree
# with PYTHONPATH=python, without installing.
develop:
	$(PYTHON) setup.py engine

# The main job: ibmb node- and batch-wise beside PyG's NeighborLoader (full-neighbourhood inference) and full batch
# on the built-in 20k-node graph: table with speed-ups and accuracy deltas, time to best validation, plot and JSON.
run: install
	mkdir -p _build/run
	$(PYTHON) -m ibmb bench --methods full,neighbor,ibmb-node,ibmb-batch --epochs 30 \
	  --nodes 20000 --homophily 0.45 --separation 0.2 \
	  --plot _build/run/ibmb-run.png --json _build/run/ibmb-run.json

vet:
	$(GO) vet ./...

# Pure-Go packages run under the race detector; cgo kernel packages run plainly
# (their C code is checked by the scalar-reference tests instead).
# gopkg builds, vets and runs its cgo-free tests without cgo too (CUDA and NVML then report "unavailable").
test-go: vet
	CGO_ENABLED=0 $(GO) vet ./gopkg/...
	CGO_ENABLED=0 $(GO) test ./gopkg/errs/ ./gopkg/ppr/pprcuda/ ./gopkg/profiling/... ./gopkg/history/
	$(GO) test -race ./gopkg/...
	IBMB_REQUIRE_NVRTC=1 IBMB_NVRTC_DIRS="$(NVRTC_DIRS)" $(GO) test ./kernels/... ./cuda/... ./bindings/... ./internal/... ./gopkg/history/

test-py: install
	cd tests && IBMB_REQUIRE_NVRTC=1 IBMB_REQUIRE_BASELINES=$(BASELINES) $(PYTHON) -m pytest -q .

test: install test-go test-py

bench: install
	$(PIP) install -q pymetis
	$(PYTHON) benchmarks/bench_gather.py
	$(PYTHON) benchmarks/bench_ppr.py
	$(PYTHON) -W ignore benchmarks/bench_partition.py
	$(PYTHON) benchmarks/bench_batching.py
	$(PYTHON) -W ignore benchmarks/bench_floor.py

# Everything a GPU machine (Python 3.12, no Go, no network) needs to run benchmarks/device_check.sh: the engine
# built here for its Python into .device-check/ (carry it), checked, then this machine's dry run of the check.
device-check: develop
	bash benchmarks/device_prep.sh
	PYTHONPATH=python $(PYTHON) benchmarks/device_check.py --dry-run --out _build/device/dry-run || \
	  echo "device-check: the dry run here reports failures: see _build/device/dry-run/report.md"

clean:
	rm -rf _build build dist python/*.egg-info .device-check
	find python/ibmb/_core -mindepth 1 ! -name __init__.py -delete
