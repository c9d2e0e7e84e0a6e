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

.PHONY: demo test test-fast lint data venv lock check-locks bench clean

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
# After the whole suite, the reproducibility tests run again on other CPU kernels (generic ATen kernels with
# oneDNN limited to SSE4.1; oneDNN off at two torch threads), so a test that holds only on one CPU's kernels
# fails here first.
# The suite runs in TEST_WORKERS processes (pytest-xdist), each test file in one of them (its module fixtures,
# such as the demo run, are built once).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile
REPRODUCIBILITY := $(BIN)/python -m pytest -q -p no:cacheprovider -m "reproducibility and not slow"
test: data lint
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped"; }
	ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 $(REPRODUCIBILITY)
	OVERCONF_TEST_MKLDNN=0 OVERCONF_TEST_THREADS=2 $(REPRODUCIBILITY)
	$(PYTEST)

# The fast subset for development: everything but the tests marked slow (over about 10 s: training, real attacks, back ends, the CLI end
# to end); `make test` (CI) runs everything.
test-fast: data lint
	$(PYTEST) -m "not slow"

# Lint and type-check (configured in pyproject.toml: ruff's rules; mypy strict on metrics/, perturb/,
# evaluation/, store/).
lint: $(TEST_STAMP)
	$(BIN)/ruff check
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Re-resolve both pinned sets (run by a developer, committed) with uv's universal resolver: one lock for
# every platform, with environment markers where platforms differ (torch's CUDA wheels: Linux only). The test
# set first, then the runtime set constrained to it, so the two agree on every package they share. The
# current locks are uv's preferences: versions move only where they must (`make lock LOCK_FLAGS=--upgrade`
# moves all). Then run `make check-locks`.
LOCK_VENV := /tmp/overconf-lock
UV_VERSION := 0.13.9
UV_COMPILE = $(LOCK_VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --no-annotate \
  --custom-compile-command 'make lock' -q $(LOCK_FLAGS)
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q uv==$(UV_VERSION)
	$(UV_COMPILE) --extra test -o requirements-test.lock
	$(UV_COMPILE) -c requirements-test.lock -o requirements.lock

# Every pin of both locks that applies to Linux x86-64 / aarch64 (glibc 2.28) or macOS 14 arm64, Python
# 3.11-3.13, has a wheel for it on pip's index (tools/check_locks.py: reads the index's project pages, no
# downloads; an unreachable index fails). `.ci/run` runs it before `make test`.
check-locks: $(STAMP)
	$(BIN)/python tools/check_locks.py

clean:
	rm -rf $(VENV) runs .pytest_cache
