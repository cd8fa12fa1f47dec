# Entry points: `make test` (the test suite), `make demo` (quickstart on a
# synthesized corpus). Both create .venv from requirements.txt when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A GPU machine: make venv REQUIREMENTS=requirements-gpu.txt
REQUIREMENTS ?= requirements.txt

.PHONY: test test-fast venv clean demo demo-packages train-real

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) requirements-extras.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# tensorflow-cpu and tensorflow[and-cuda] must not share an environment.
	if [ "$(REQUIREMENTS)" = requirements-gpu.txt ]; then \
	  $(PY) -m pip uninstall -q -y tensorflow-cpu; fi
	$(PY) -m pip install -q -r $(REQUIREMENTS) -r requirements-extras.txt
	touch $(STAMP)

# Test processes (pytest-xdist); each test module stays in one process, so
# its module fixtures are built once. TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
TEST_ARGS := -q -ra -n $(TEST_WORKERS) --dist loadfile

# The whole suite, slow end-to-end tests included (what CI runs).
test: $(STAMP)
	$(PY) -m pytest $(TEST_ARGS)

# Unit tests only (skips the tests marked slow).
test-fast: $(STAMP)
	$(PY) -m pytest $(TEST_ARGS) -m "not slow"

# Debian packages the demo needs (one home, also read by .ci/run).
DEMO_PACKAGES := $(shell grep -v '^\#' requirements-debian.txt)

demo-packages:
	@missing=$$(for p in $(DEMO_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "The demo needs Debian packages; run:"; \
	    echo "  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi

# Quickstart: synthesized corpus -> data/download.py -> deep_speech.py ->
# transcriptions in 25 minutes from `make demo`, the venv and the Debian
# packages included (DEMO_T0, read when make starts); re-running reuses work.
demo: export DEMO_T0 := $(shell date +%s)
demo: $(STAMP) demo-packages
	PYTHON=$(PY) ./demo.sh

# The longer real-speech recipe after `REAL_SPEECH=1 make demo`: resumable,
# TRAIN_MINUTES (180) of training from the demo's weights (scripts/train_real.sh).
train-real: $(STAMP)
	PYTHON=$(PY) scripts/train_real.sh

clean:
	rm -rf $(VENV) .pytest_cache
