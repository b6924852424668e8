# One command for everything CI checks: format, lint, types, tests.
PY ?= .venv/bin/python

.PHONY: check lint test bench
check: lint test

lint:
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy

test:
	$(PY) -m pytest -q

bench:
	$(PY) bench/intake.py
