# Two commands on a fresh machine: `make dev` runs the platform, `make test` runs the tests.
# Both create the environment themselves: a private uv in .tools/, the workspace in .venv/.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
RUN := $(UV) run --frozen

.PHONY: dev test lint format typecheck bench acceptance install clean help

help:
	@echo "make dev        run the whole platform in one process (embedded PostgreSQL, in-process bus)"
	@echo "make test       run the test suite (real PostgreSQL and RabbitMQ when configured)"
	@echo "make bench      run the benchmarks and print p50/p95/throughput"
	@echo "make lint       ruff check, ruff format --check and mypy"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: .venv/.synced

dev: install
	$(RUN) bwai dev

test: install
	$(RUN) pytest $(PYTEST_ARGS)

bench: install
	$(RUN) python -m bench.run
	$(RUN) python -m bench.reconcile

acceptance: install
	$(RUN) bwai acceptance

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs services tools cli

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
