# Pigeon's front door. `make help` lists the targets by what they are for.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
ARCH ?= x86_64
CHECKOV := checkov==3.3.30
ZIZMOR := zizmor==1.32.0
YAMLLINT := yamllint==1.38.0
PIP_AUDIT := pip-audit==2.10.1
MODE ?=
# pytest-xdist workers for `make test`: one per core, at least 2 (docs/testing.md).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -lt 2 ] && n=2; echo $$n)

.PHONY: help install broker broker-stop cluster cluster-stop clean build reproducible audit test test-fast lint \
	run invoke smoke bench checkov terraform-test lint-workflows docs

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} \
		/^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Set up
install: ## the locked dev dependencies into .venv (pip, from Poetry's hashed export)
	@scripts/bootstrap.sh >/dev/null

broker: install ## make sure a local RabbitMQ answers on 127.0.0.1:5672 (PIGEONTOOLS_RABBITMQ_PORT)
	@$(PY) scripts/rabbitmq.py start

broker-stop: install ## stop the private RabbitMQ node that `make broker` started
	@$(PY) scripts/rabbitmq.py stop

cluster: install ## a local three-node RabbitMQ cluster with quorum queues (127.0.0.1:5681-5683)
	@$(PY) scripts/rabbitmq.py cluster-start

cluster-stop: install ## stop the nodes that `make cluster` started
	@$(PY) scripts/rabbitmq.py cluster-stop

clean: ## remove build outputs (not .venv or .cache)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache reports/junit.xml

##@ Build
build: install ## build/, dist/pigeon.zip and its .sha256 (ARCH=x86_64|arm64)
	@poetry=$$(scripts/bootstrap.sh) && POETRY=$$poetry $(PY) scripts/build.py --arch $(ARCH)

reproducible: install ## build twice from scratch and compare the sha256 (CI's gate)
	@scripts/build_twice.sh ARCH=$(ARCH)

audit: install ## pip-audit of the shipped dependencies (needs the vulnerability database: CI)
	@scripts/audit_dependencies.sh

##@ Test
test: build ## everything: lint, build, every test (starts its own RabbitMQ nodes)
	@$(PY) scripts/rabbitmq.py install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@$(MAKE) --no-print-directory checkov lint-workflows
	poetry=$$(scripts/bootstrap.sh) && POETRY=$$poetry $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

test-fast: build ## the unit tests: no broker, no runtime
	$(VENV)/bin/pytest tests/unit

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

##@ Run
run: build ## the main job: build, local broker, a generated event, one invoke, the queue
	@scripts/run_local.sh

invoke: build ## invoke the build with an event piped to stdin (scripts/invoke.sh)
	@scripts/invoke.sh

smoke: build ## smoke test on the running broker (make broker); starts and stops none (MODE=--local|--docker)
	@scripts/smoke_test.sh $(MODE)

bench: build broker ## benchmarks against same-run baselines: bench/results.json and plots
	$(PY) scripts/bench.py $(BENCH_ARGS)

##@ Infrastructure and docs
checkov: ## checkov over terraform/ (own venv); the HCL wiring tests are in pytest
	scripts/tool_venv.sh $(CHECKOV) checkov -d terraform --skip-download --quiet --compact

terraform-test: ## terraform fmt, init, validate and test (needs terraform and the network: CI)
	scripts/terraform_check.sh

docs: install ## regenerate docs/configuration.md, docs/metrics.md, the figure tables, module READMEs
	$(PY) scripts/docs.py

lint-workflows: ## zizmor, yamllint and actionlint over .github/ (own installs under .cache/tools)
	scripts/tool_venv.sh $(ZIZMOR) zizmor --offline .github
	scripts/tool_venv.sh $(YAMLLINT) yamllint --strict --config-file .yamllint.yaml .github
	scripts/actionlint.sh
