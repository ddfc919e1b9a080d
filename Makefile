# Two set-up commands from a fresh clone: `make book` and `make test`. Each creates .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL ?= all

.PHONY: test train book clean-book info evaluate bench

$(STAMP): pyproject.toml requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e ".[dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest tests

train: $(STAMP)
	$(PY) -m cnnbook train --model $(MODEL) --resume

info: $(STAMP)
	$(PY) -m cnnbook info

evaluate: $(STAMP)
	$(PY) -m cnnbook evaluate --model all

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_convolution.py
