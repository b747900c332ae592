# Every target creates the environment on first use (Python from .python-version via pyenv).
PY      ?= $(shell command -v pyenv >/dev/null 2>&1 && pyenv which python 2>/dev/null || command -v python3.12 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: setup run test lint bench bench-quick docs notebooks reference clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,viz]"
	@touch $(STAMP)

run: setup
	$(BIN)/sim run scenarios/baseline.toml --runs 200 --out outputs/baseline --force

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check sim tests bench

bench: setup   # every target of issue 12 side by side -> bench/results.json (~10 min)
	$(BIN)/python bench/targets.py

bench-quick: setup   # the same at smaller sizes, seconds scaled up and labelled (~2 min)
	$(BIN)/python bench/targets.py --quick

docs: setup   # regenerate the calibration (about an hour), then the figures and numbers of docs/SCENARIOS.md
	$(BIN)/sim calibrate --force
	$(BIN)/python docs/make_scenario_figures.py

reference: setup   # re-pin tests/reference/baseline.json after a deliberate change of results
	$(BIN)/python tests/test_reference.py --write

notebooks: $(VENV)/.notebooks   # JupyterLab in notebooks/ (the notebooks extra)
	cd notebooks && ../$(BIN)/jupyter lab

$(VENV)/.notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,viz,notebooks]"
	@touch $@

clean:
	rm -rf outputs .pytest_cache .ruff_cache
