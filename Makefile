# Pigeon's front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
ARCH ?= x86_64
CHECKOV := checkov==3.3.30
ZIZMOR := zizmor==1.32.0
YAMLLINT := yamllint==1.38.0
PIP_AUDIT := pip-audit==2.10.1
MODE ?= --local

PHONY_EXTRA := reproducible smoke lint-workflows terraform-check audit bench
.PHONY: $(PHONY_EXTRA) help install build test test-fast lint check-terraform run invoke broker broker-stop clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## install Poetry (if missing) and the locked dev dependencies into .venv
	@scripts/bootstrap.sh >/dev/null

build: install ## build build/, dist/pigeon.zip and its .sha256 (ARCH=x86_64|arm64)
	@POETRY=$$(scripts/bootstrap.sh) $(PY) scripts/build.py --arch $(ARCH)

test: build ## the whole test suite: lint, build, every test (starts its own RabbitMQ)
	@scripts/rabbitmq.sh install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@$(MAKE) --no-print-directory check-terraform lint-workflows
	POETRY=$$(scripts/bootstrap.sh) $(VENV)/bin/pytest

test-fast: build ## the tests that need no broker and no runtime
	$(VENV)/bin/pytest -m "not broker and not slow and not integration"

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check-terraform: ## checkov over terraform/ (own venv); the HCL wiring tests are in pytest
	scripts/tool_venv.sh $(CHECKOV) checkov -d terraform --skip-download --quiet --compact

bench: build ## benchmarks against baselines in the same run: bench/results.json, bench/warm_latency.png
	@scripts/rabbitmq.sh start
	$(PY) scripts/bench.py $(BENCH_ARGS)

reproducible: install ## build twice from scratch and compare the sha256 (CI's gate)
	@scripts/build_twice.sh ARCH=$(ARCH)

smoke: build ## smoke test against the running local broker (MODE=--docker for the runtime image)
	@scripts/smoke_test.sh $(MODE)

lint-workflows: ## zizmor and yamllint over .github/ (own venvs)
	scripts/tool_venv.sh $(ZIZMOR) zizmor --offline .github/workflows
	scripts/tool_venv.sh $(YAMLLINT) yamllint --strict --config-file .yamllint.yaml .github

audit: install ## pip-audit of the shipped dependencies (needs the vulnerability database online: CI)
	@scripts/audit_dependencies.sh

terraform-check: ## terraform fmt, init, validate and test (needs terraform and the network: CI)
	scripts/terraform_check.sh

broker: ## make sure a local RabbitMQ answers on 127.0.0.1:5672
	@scripts/rabbitmq.sh start

broker-stop: ## stop the private RabbitMQ node that `make broker` started
	@scripts/rabbitmq.sh stop

clean: ## remove build outputs (not .venv or .cache)
	rm -rf build dist reports .pytest_cache .mypy_cache .ruff_cache

run: build ## the main job: build, local broker, a generated event, one invoke, the queue
	@scripts/run_local.sh

invoke: build ## invoke the build with the event on stdin (scripts/invoke.sh)
	@scripts/invoke.sh
