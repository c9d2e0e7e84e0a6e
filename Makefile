# The two commands: `make demo` (the Fashion-MNIST demo, writes runs/demo/) and `make test`.
# Both create .venv and install everything pinned in requirements.lock themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/demo
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test data venv lock bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

data: $(STAMP)
	$(BIN)/overconf data fetch fashion-mnist

demo: data
	$(BIN)/overconf demo --out $(OUT)

# Chromium renders report.html in the report tests; installed from Debian when apt is usable.
test: data
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped"; }
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Re-resolve the pinned set (run by a developer, committed).
lock:
	rm -rf /tmp/overconf-lock && $(PYTHON) -m venv /tmp/overconf-lock
	/tmp/overconf-lock/bin/python -m pip install -q -e '.[test]'
	/tmp/overconf-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) runs .pytest_cache
