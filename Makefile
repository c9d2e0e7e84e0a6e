# The two commands: `make demo` (the Fashion-MNIST demo, writes runs/demo/) and `make test`.
# Both create .venv and install what they need, pinned: `make demo` the runtime set (requirements.lock),
# `make test` also the test set (requirements-test.lock: pytest, ruff, mypy, netcal, ...).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
OUT ?= runs/demo
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint data venv lock bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(BIN)/python -m pip install -q -r requirements-test.lock
	touch $(TEST_STAMP)

venv: $(STAMP)

data: $(STAMP)
	$(BIN)/overconf data fetch fashion-mnist

demo: data
	$(BIN)/overconf demo --out $(OUT)

# Chromium renders report.html in the report tests; installed from Debian when apt is usable.
test: data lint
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped"; }
	$(BIN)/python -m pytest -q

# Lint and type-check (configured in pyproject.toml: ruff's rules; mypy strict on metrics/, perturb/,
# evaluation/, store/).
lint: $(TEST_STAMP)
	$(BIN)/ruff check
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Re-resolve both pinned sets (run by a developer, committed): the test set first, then the runtime set
# constrained to the test set's versions, so the two locks agree on every package they share.
LOCK_VENV := /tmp/overconf-lock
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --dry-run --ignore-installed --report $(LOCK_VENV)/test.json -e '.[test]'
	$(LOCK_VENV)/bin/python tools/pins.py $(LOCK_VENV)/test.json > requirements-test.lock
	$(LOCK_VENV)/bin/python -m pip install -q --dry-run --ignore-installed --report $(LOCK_VENV)/runtime.json \
	  -c requirements-test.lock -e .
	$(LOCK_VENV)/bin/python tools/pins.py $(LOCK_VENV)/runtime.json > requirements.lock

clean:
	rm -rf $(VENV) runs .pytest_cache
