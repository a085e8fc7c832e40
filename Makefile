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

$(STAMP): pyproject.toml constraints.txt scripts/install_llm.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip>=25'
	# torch is pinned to 2.13.0 (CPU) in constraints.txt, so no CUDA build is ever pulled.
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	# llama.cpp server (compiled here, ~5 min the first time) and the local GGUF models.
	PYTHON=$(BIN)/python PIP=$(BIN)/pip bash scripts/install_llm.sh
	touch $@

install: $(STAMP)

run: install
	$(BIN)/ragqa ingest
	$(BIN)/ragqa app

# Debian's Chromium drives the real-browser tests (Playwright cannot download a browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

test: install browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not llm and not browser"

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-query: install
	$(BIN)/python bench/query.py

bench-llm: install
	$(BIN)/python bench/llm_speed.py

clean:
	rm -rf $(VENV) .ragqa-index
