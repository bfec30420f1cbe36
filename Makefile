# Everything runs from the project venv, created from pinned requirements on first use.
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STACK   ?= dev

# Two layers in one venv: the program's requirements (all `make plan` needs, and what
# `pulumi up` installs), then the test toolchain and the images' code on top.
PROGRAM_INSTALLED := $(VENV)/.installed-program
DEV_INSTALLED     := $(VENV)/.installed-dev
DEV_REQS := requirements-dev.txt images/train/requirements.txt images/serve/requirements.txt

.PHONY: venv plan plan-json graph diff cost test typecheck lock lock-airflow clean schema teardown rollback mutate

venv: $(DEV_INSTALLED)

$(PROGRAM_INSTALLED): requirements.txt constraints.txt
	@test -x $(PY) || { echo "make: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "make: installing the program's pinned requirements into $(VENV) (about a minute on a fresh clone)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

$(DEV_INSTALLED): $(PROGRAM_INSTALLED) $(DEV_REQS)
	@echo "make: installing the test toolchain into $(VENV) (one to two minutes on a fresh clone)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

## plan: render what STACK (default dev) would create, offline, under the mock engine
##   ARGS=--json prints the recording (secrets redacted), ARGS=--graph a Mermaid diagram
plan: $(PROGRAM_INSTALLED)
	@$(PY) -m offline.plan --stack $(STACK) $(ARGS)

## plan-json / graph: the same as make plan ARGS=--json / ARGS=--graph
plan-json: $(PROGRAM_INSTALLED)
	@$(PY) -m offline.plan --stack $(STACK) --json

graph: $(PROGRAM_INSTALLED)
	@$(PY) -m offline.plan --stack $(STACK) --graph

## diff: review the working tree against BASE (default: merge base with main); writes
##   $(OUT)/report.md and $(OUT)/report.json and prints the Markdown
BASE ?=
OUT  ?= build/review
diff: $(PROGRAM_INSTALLED)
	@$(PY) -m offline.review --base "$(BASE)" --out "$(OUT)"

## cost: idle monthly cost and one training run's cost, per stack (all stacks unless STACK=...)
cost: $(PROGRAM_INSTALLED)
	@$(PY) -m offline.cost $(if $(filter command line environment,$(origin STACK)),--stack $(STACK))

## schema: regenerate stacks/stack-config.schema.json from the config model
schema: $(PROGRAM_INSTALLED)
	@$(PY) -m offline.schema

## teardown: delete STACK and its data, in two steps; asks for the stack name twice
teardown:
	@if [ "$(origin STACK)" = "file" ]; then echo "make teardown needs the stack named: make teardown STACK=prod" >&2; exit 2; fi
	@scripts/teardown.sh $(STACK)

## rollback: point PROJECT's LATEST in STACK back at its previously promoted version (VERSION=<id>
##   for a chosen one), after checking its model and sha256; the servers follow within 30 s
PROJECT ?=
VERSION ?=
rollback:
	@if [ "$(origin STACK)" = "file" ] || [ -z "$(PROJECT)" ]; then echo "make rollback needs the stack and the project named: make rollback STACK=prod PROJECT=iris [VERSION=<id>]" >&2; exit 2; fi
	@$(MAKE) --no-print-directory venv
	@$(PY) scripts/rollback.py --stack "$(STACK)" --project "$(PROJECT)"$(if $(VERSION), --version "$(VERSION)")

# checkov pins an old `packaging`, so it lives in a venv of its own; the Dockerfile
# tests run it from here and fail (not skip) if it is missing.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints-checkov.txt
	@echo "make: installing checkov into $(CHECKOV_VENV) (about a minute on a fresh clone)"
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt -c constraints-checkov.txt
	@touch $@

# Apache Airflow, for the pipeline's DAG tests (tests/pipeline/, which fail, not skip, without it):
# its own venv, since Airflow pins SQLAlchemy, Flask and boto3 apart from the program.
AIRFLOW_VENV := .venv-airflow
$(AIRFLOW_VENV)/.installed: requirements-airflow.txt constraints-airflow.txt
	@echo "make: installing Apache Airflow into $(AIRFLOW_VENV) (about a minute on a fresh clone)"
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	@$(AIRFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-airflow.txt -c constraints-airflow.txt
	@touch $@

# promtool checks the alert rules and runs their unit tests (tests/monitoring/test_promtool.py,
# which fail, not skip, without it). Debian's prometheus package ships it as /usr/bin/promtool.
.PHONY: promtool
promtool:
	@command -v promtool >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "make: promtool is missing and there is no apt-get to install it with: install Prometheus's promtool (2.42 or later) on PATH" >&2; exit 1; }; \
	  echo "make: installing promtool (Debian's prometheus package) with apt-get (about 15 s)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

## test: the whole suite (program under the mock engine, images, linters, types)
test: venv $(CHECKOV_VENV)/.installed $(AIRFLOW_VENV)/.installed promtool
	@echo "make: type-checking with pyright"
	@$(PY) -m pyright
	@$(PY) -m pytest

typecheck: venv
	$(PY) -m pyright

## mutate: mutation testing, not part of make test (about MINUTES=20 on 2 cores): one-line mutants of
##   components/, policy/ and offline/, sampled with SEED=1, each run against the tests that reach it;
##   prints the score and the survivors (ONLY="components/batch/job.py ..." narrows it)
SEED    ?= 1
MINUTES ?= 20
mutate: venv $(CHECKOV_VENV)/.installed $(AIRFLOW_VENV)/.installed promtool
	@$(PY) scripts/mutate.py --seed $(SEED) --minutes $(MINUTES) $(if $(ONLY),--only $(ONLY))

## lock: re-pin the transitive dependency set after changing a requirements file
lock:
	$(call freeze,constraints.txt,-r requirements.txt -r requirements-dev.txt)
	$(call freeze,constraints-checkov.txt,-r requirements-checkov.txt)

## lock-airflow: re-pin Airflow's transitive set as of its release (EXCLUDE_NEWER), with uv's resolver
EXCLUDE_NEWER ?= 2025-09-10
lock-airflow:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet uv
	{ echo "# Resolved by \`make lock-airflow\`: uv, with --exclude-newer at Airflow 3.0.6's release, stands in"; \
	  echo "# for Airflow's own constraint file (which can't be fetched here)."; \
	  .venv-lock/bin/uv pip compile --quiet --no-header --no-annotate --python-version 3.11 \
	    --exclude-newer $(EXCLUDE_NEWER) requirements-airflow.txt; } > constraints-airflow.txt
	rm -rf .venv-lock

# $(call freeze,OUT,PIP-ARGS): resolve PIP-ARGS in a scratch venv and pin the result in OUT.
define freeze
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet $(2)
	.venv-lock/bin/pip freeze --exclude-editable | sort > $(1)
	rm -rf .venv-lock
endef

## bench: the serving benchmark against MLServer (installs wrk and .venv-mlserver if missing)
.PHONY: bench bench-plan
bench: venv
	$(PY) bench/run.py

## bench-plan: how long make plan takes, and how many resources it registers, for 1, 10 and 50
##   projects (STACK=dev by default; ARGS="--counts 1 10 100 --repeat 5" to change them)
bench-plan: $(PROGRAM_INSTALLED)
	@$(PY) bench/plan_scale.py --stack $(STACK) $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(AIRFLOW_VENV) .venv-mlserver .pytest_cache
