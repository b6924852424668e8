# One command for everything CI checks: format, lint, types, tests.
PY ?= .venv/bin/python

.PHONY: check lint test test-slow bench
check: lint test test-slow

lint:
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy

test:
	$(PY) -m pytest -q -m "not slow"

test-slow:
	$(PY) -m pytest -q -m slow

bench:
	$(PY) bench/intake.py
