# The two commands the README promises: `make run` and `make test`. Both install what is missing.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 5000
BENCH_CASES ?= 1000000

.PHONY: run test install assets translations bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP) assets

# GOV.UK Frontend CSS, JS, fonts and images from the npm registry (not committed; see the script)
assets:
	bash scripts/build-assets.sh

translations: install
	$(BIN)/nrm translate compile

run: install assets translations
	$(BIN)/nrm db upgrade
	$(BIN)/nrm demo
	@# one outbox worker beside the server (`nrm worker`); Ctrl-C stops both
	$(BIN)/nrm worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	PORT=$(PORT) $(BIN)/nrm serve

# The suite in parallel (pytest-xdist, one worker a core; tests/xdist_groups.py says how tests are shared out), then the
# `serial` tests (timing thresholds) one at a time on an otherwise idle runner; fails if either part failed.
TEST_WORKERS ?= auto
test: install assets translations
	status=0; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not serial" || status=$$?; \
	$(BIN)/pytest -q -m serial || status=$$?; \
	exit $$status

# Not part of `make test`: seeds BENCH_CASES cases into PostgreSQL (scripts/system-deps.sh --pg-url)
# and up to 100,000 into SQLite, prints every figure and writes docs/performance.md (bench/run.py).
bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run --cases $(BENCH_CASES) --write docs/performance.md

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis build/assets backend/static/govuk
