# Two commands matter: `make demo` (the whole system, locally) and `make test`.
# Both install what they need once; a second run reinstalls nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_STAMP := .venv-tools/.installed
JAR := flink_job/target/fraud-stream-connectors.jar
PKGS := contracts rules flink_job udfs model_export sample_data lambdas local bench

.PHONY: demo test lint bench package install jar clean console console-test chromium tf-provider smoke \
	tools-demo tools-test

install: $(STAMP)
jar: $(JAR)

# The analyst console (console/): `npm ci` again only when the lockfile changes, then a
# Vite build into console/dist/ when a source changes.
CONSOLE_STAMP := console/node_modules/.installed
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) \
	console/index.html console/vite.config.ts $(wildcard console/tsconfig*.json)
CONSOLE_DIST := console/dist/index.html
console: $(CONSOLE_DIST)

$(CONSOLE_STAMP): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_DIST): $(CONSOLE_STAMP) $(CONSOLE_SOURCES)
	cd console && npm run build
	@test -f $@ && touch $@

console-test: $(CONSOLE_STAMP)
	cd console && npm run check && npm test

# The browser test drives Debian's Chromium (never a downloaded browser build).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium: $(CHROMIUM)

$(CHROMIUM):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium chromium-driver fonts-dejavu-core

$(STAMP): pyproject.toml requirements.lock build-constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24"
	PIP_CONSTRAINT=$(CURDIR)/build-constraints.txt $(BIN)/pip install -q \
		--only-binary apache-beam -c requirements.lock -e '.[dev]'
	$(BIN)/pip check
	touch $@

# checkov's pins conflict with apache-flink's, so it lives in its own virtualenv.
$(TOOLS_STAMP): infra/requirements-tools.txt
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install -q --upgrade "pip>=24"
	.venv-tools/bin/pip install -q -r infra/requirements-tools.txt
	touch $@

JAVA_SOURCES := $(shell find flink_job/src -name '*.java' 2>/dev/null)

$(JAR): flink_job/pom.xml $(JAVA_SOURCES)
	cd flink_job && mvn -q -B -ntp package -DskipTests
	@test -f $@ && touch $@

# Before anything is installed: the tools each command needs, with what to install if not.
tools-demo:
	@PYTHON=$(PYTHON) infra/tools/check_tools.sh demo
tools-test:
	@PYTHON=$(PYTHON) infra/tools/check_tools.sh test

demo: tools-demo $(STAMP) $(JAR) console
	$(BIN)/python -m local.demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(PKGS) tests
	$(BIN)/ruff format --check $(PKGS) tests
	$(BIN)/mypy

# First thing, in the background and nice'd: build the hashicorp/aws provider the Terraform
# tests validate against, unless it is cached (~/.cache/fraud-stream) or FRAUD_TF_PLUGIN_DIR
# names a mirror; the rest of `make test` runs meanwhile and those tests wait for it.
tf-provider:
	$(if $(FRAUD_TF_PLUGIN_DIR),,infra/tools/build_aws_provider.sh start)

test: tools-test tf-provider $(STAMP) $(TOOLS_STAMP) $(JAR) lint console console-test chromium
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The Managed Flink zip and the Lambda zips, reproducibly, into build/package/.
package: $(STAMP) $(JAR) console
	$(BIN)/python -m infra.package $(PACKAGE_ARGS)

# A deployment end to end (infra/README.md, step 8): transactions in, then alerts, DynamoDB
# items, lake objects, an e-mail and the alert through the API. FRAUD_API_TOKEN or
# SMOKE_ARGS=--token=... gives the API token.
SMOKE_OUTPUTS ?= build/outputs.json
smoke: $(STAMP)
	@mkdir -p $(dir $(SMOKE_OUTPUTS))
	terraform -chdir=infra/terraform output -json > $(SMOKE_OUTPUTS)
	$(BIN)/python -m local.traffic.smoke --outputs $(SMOKE_OUTPUTS) $(SMOKE_ARGS)

clean:
	rm -rf $(VENV) .venv-tools build flink_job/target console/node_modules console/dist

# Not part of `make test`: throughput against the JVM-only ceiling, latency, scoring cost.
bench: $(STAMP) $(JAR)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
