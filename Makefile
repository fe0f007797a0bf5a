# The only set-up anyone needs: `make demo` and `make test` set up first, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vislab-installed
DEMO_OUT ?= demo-out
# Extra options for `vislab demo`, e.g. make demo DEMO_ARGS="--budget tiny".
DEMO_ARGS ?=
# Extra pytest options for `make test`; a second -m replaces the default "not slow".
PYTEST_ARGS ?=

.PHONY: setup demo test test-slow bench lint

setup: $(STAMP) system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: the CPU wheel on these machines; a bare `torch` would pull a CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Debian's Fashion-MNIST (the default data) and Chromium (the report's browser test).
.PHONY: system-packages
system-packages:
	@if [ -d /usr/share/datasets/fashion-mnist ] && command -v chromedriver >/dev/null; then \
		true; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			dataset-fashion-mnist chromium chromium-driver >/dev/null; \
	else \
		echo "vislab: not root or no apt-get: install the data with"; \
		echo "  sudo apt-get install dataset-fashion-mnist chromium chromium-driver"; \
		echo "or set VISLAB_DATA_DIR to a folder with the four Fashion-MNIST IDX files."; \
	fi

demo: setup
	$(BIN)/vislab demo --out "$(DEMO_OUT)" $(DEMO_ARGS)

# The suite on 2 workers, one torch thread each so they do not oversubscribe 2 cores.
# `slow` tests (minutes each) run in `make test-slow`; CI runs both.
test: setup
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadgroup -q -m "not slow" $(PYTEST_ARGS)

test-slow: setup
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadgroup -q -m slow

bench: setup
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Mutation testing over the scope in pyproject.toml's [tool.mutmut] (an hour or more on 2 cores;
# not part of `make test`). Survivors: `$(BIN)/mutmut results`, one in detail: `mutmut show NAME`.
.PHONY: mutation
mutation: setup
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 15 $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results
