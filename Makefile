# The two commands the README promises: `make run` and `make test`. Both install what is missing.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 5000

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
	PORT=$(PORT) $(BIN)/nrm serve

test: install assets translations
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis build/assets backend/static/govuk
