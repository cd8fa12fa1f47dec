# Entry points: `make test` (the test suite), `make demo` (quickstart on a
# synthesized corpus). Both create .venv from requirements.txt when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-fast venv clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# The whole suite, slow end-to-end tests included (what CI runs).
test: $(STAMP)
	$(PY) -m pytest -q -ra

# Unit tests only (skips the tests marked slow).
test-fast: $(STAMP)
	$(PY) -m pytest -q -ra -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache
