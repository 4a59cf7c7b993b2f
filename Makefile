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

.PHONY: all deps install develop run test test-go test-py vet bench clean

all: install

deps:
	$(PIP) install -q $(PY_DEPS)
	$(GO) mod download

install: deps
	$(PIP) install -q --no-build-isolation --force-reinstall --no-deps .

# Build the engine in place (python/ibmb/_core) to run from the source tree
# with PYTHONPATH=python, without installing.
develop:
	$(PYTHON) setup.py engine

run: install
	$(PYTHON) -m ibmb train --epochs 30

vet:
	$(GO) vet ./...

# Pure-Go packages run under the race detector; cgo kernel packages run plainly
# (their C code is checked by the scalar-reference tests instead).
test-go: vet
	$(GO) test -race ./gopkg/...
	IBMB_REQUIRE_NVRTC=1 IBMB_NVRTC_DIRS="$(NVRTC_DIRS)" $(GO) test ./kernels/... ./cuda/... ./bindings/... ./internal/...

test-py: install
	cd tests && IBMB_REQUIRE_NVRTC=1 $(PYTHON) -m pytest -q .

test: install test-go test-py

bench: install
	$(PIP) install -q pymetis
	$(PYTHON) benchmarks/bench_gather.py
	$(PYTHON) benchmarks/bench_ppr.py
	$(PYTHON) -W ignore benchmarks/bench_partition.py
	$(PYTHON) benchmarks/bench_batching.py
	$(PYTHON) -W ignore benchmarks/bench_floor.py

clean:
	rm -rf _build build dist python/ibmb/_core python/*.egg-info
