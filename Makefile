# One command for everything CI checks: format, lint, types, tests.
PY ?= .venv/bin/python
# import-linter's `lint-imports`, run by PY (it has no `python -m` entry): the contracts in
# pyproject.toml's [tool.importlinter].
LINT_IMPORTS = $(PY) -c 'import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())'

.PHONY: check lint test test-slow bench
check: lint test test-slow

lint:
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(LINT_IMPORTS)

test:
	$(PY) -m pytest -q -m "not slow"

test-slow:
	$(PY) -m pytest -q -m slow

bench:
	$(PY) bench/intake.py
