SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3

# ---------------------------------------------------------------- deployment tools
# The SAM CLI pins its own boto3 and pydantic, so it lives in a virtualenv of its own,
# apart from the project's .venv. The stamp names the versions: changing a pin reinstalls.
SAM_CLI_VERSION := 1.170.0
CFN_LINT_VERSION := 1.58.0
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed-sam-$(SAM_CLI_VERSION)-cfn-lint-$(CFN_LINT_VERSION)
SAM := SAM_CLI_TELEMETRY=0 $(TOOLS_VENV)/bin/sam
CFN_LINT := $(TOOLS_VENV)/bin/cfn-lint

# `sam build` looks for the runtime's interpreter (python3.13) on PATH. Under pyenv, make
# every installed CPython visible through the shims, the current default first.
PYENV_VERSIONS = $(shell { pyenv version-name; pyenv versions --bare \
	| grep -E '^3\.[0-9]+\.[0-9]+$$' | sort -rV; } 2>/dev/null | awk '!seen[$$0]++' \
	| paste -sd: -)
BUILD_ENV = $(if $(shell command -v pyenv),\
	PYENV_VERSION=$(PYENV_VERSIONS) PATH="$(shell pyenv root)/shims:$$PATH")

.PHONY: help tools check

help:
	@echo "make tools   install the SAM CLI and cfn-lint into $(TOOLS_VENV)"
	@echo "make run     start the whole system locally on http://127.0.0.1:8000"
	@echo "make test    run the tests"
	@echo "make bench   measure cold starts and warm requests against the budgets"
	@echo "make check   lint template.yaml, validate it with SAM, and build it"

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP):
	rm -f $(TOOLS_VENV)/.installed-*
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet \
		aws-sam-cli==$(SAM_CLI_VERSION) cfn-lint==$(CFN_LINT_VERSION)
	touch $@

# cfn-lint alone no longer expands SAM resources; `sam validate --lint` lints the expanded
# template and so catches circular dependencies. The build proves that the layer's
# dependencies exist for arm64 and Python 3.13.
check: tools
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint
	$(BUILD_ENV) $(SAM) build --cached --parallel

# ---------------------------------------------------------------- local stack
# The project's virtualenv, for the tests and the local stack. The stamp sits inside it, so a
# half-finished install is retried, and a change to either requirements file reinstalls.
VENV_STAMP := .venv/.installed-dev

.PHONY: .venv run

.venv: $(VENV_STAMP)

$(VENV_STAMP): requirements-dev.txt layers/common/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "the local stack needs Python 3.11 or later as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv .venv
	.venv/bin/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The server on http://127.0.0.1:8000 (PORT changes it), moto and the sign-in provider, all
# stopped by Ctrl-C.
run: .venv
	.venv/bin/python -m local

# ---------------------------------------------------------------- tests and measurements
.PHONY: test bench

# Unit and functional tests against moto, and integration tests that start the local stack.
test: .venv
	.venv/bin/python -m pytest

# DESIGN.md's budgets in one report: cold-start imports of each handler as ratios within one
# run, and the AWS calls and in-process time of warm requests; non-zero past a budget.
bench: .venv
	.venv/bin/python -m bench
