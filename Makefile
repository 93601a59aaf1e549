# Keyhold: two commands for a fresh Debian/Ubuntu machine.
#   make run   install what is missing, build, start the local server, open the desktop app
#   make test  install what is missing, then lint and run every test suite
# See README.md. Other targets: deps, ui, build, lint, test-rust, test-ui, test-desktop, test-deploy, dist, bench, audit, sbom, fuzz.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# A CI run builds everything once: incremental caches would only cost disk (about as much
# again as the build itself) and time.
ifneq ($(CI),)
export CARGO_INCREMENTAL := 0
endif
XVFB := xvfb-run -a -s "-screen 0 1280x800x24"
# nextest when installed (faster, clearer summary), cargo test otherwise.
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: help deps ui build run server test lint test-rust test-openapi test-ui test-desktop test-deploy test-sdk test-prometheus dist bench audit sbom fuzz clean

help:
	@sed -n '2,5p' Makefile

deps:
	@scripts/install-deps.sh

ui: deps
	cd ui && npm run build

build: ui
	$(CARGO) build --workspace --bins

run: build
	@scripts/run.sh

# Only the server, in the foreground (no desktop session needed).
server:
	$(CARGO) build -p keyhold-server
	./target/debug/keyhold-server --data-dir ./.keyhold --listen 127.0.0.1:8270

test: deps ui lint test-rust test-openapi test-ui test-desktop test-deploy test-sdk test-prometheus
	@echo "make test: every suite passed"

# Formatting, clippy, and the guards of the layering (docs/architecture.md): which crate
# may depend on which, no HTTP framework under keyhold-vault, and the size limits. The
# vault's modules are kept free of import cycles by a test (crates/vault/tests/layering/).
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	python3 scripts/check_layering.py
	python3 scripts/check_sizes.py --quiet

# The API suite runs a second time on PostgreSQL (KEYHOLD_TEST_STORE=postgres: each test's
# server on a throwaway cluster of its own, tests/src/lib.rs). Left out of that pass, having
# run once above: the PostgreSQL tests themselves and those of what only SQLite has
# (`sqlite_only`: they choose their stores), and the tests of the binary and its files on
# disk (CLI, processes, crashes, SQLite's own file).
PG_API := binary(api) and not (test(/^postgres::/) | test(/(^|::)sqlite_only::/) | test(/^cli/) | test(/^process::/) | test(/^crash::/))
PG_API_SKIP := --skip postgres:: --skip sqlite_only:: --skip cli --skip process:: --skip crash::

# Every Rust suite but the desktop window tests: unit tests of each crate and the API
# tests against a real server. Binaries first: some tests run the real keyhold-server.
test-rust:
	$(CARGO) build --workspace --bins
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast -E 'not binary(desktop)'
	KEYHOLD_TEST_STORE=postgres $(CARGO) nextest run --workspace --no-fail-fast -E '$(PG_API)'
else
	$(CARGO) test --workspace --no-fail-fast -- --skip desktop::
	KEYHOLD_TEST_STORE=postgres $(CARGO) test -p keyhold-e2e --test api --no-fail-fast -- $(PG_API_SKIP)
endif

# The OpenAPI document against the real server binary, by schemathesis (every check, every
# operation, as a session, an agent key and a token, stateful phase included); see
# scripts/check_openapi.py for what it sets up and what it leaves out, and why.
test-openapi:
	$(CARGO) build --workspace --bins
	.venv-tools/bin/python scripts/check_openapi.py

test-ui:
	cd ui && npm test

# The deployment files against systemd-analyze, kubernetes-validate, yamllint and hadolint
# (deploy/; the unit is verified against the built server binary).
test-deploy:
	$(CARGO) build --workspace --bins
	.venv-tools/bin/python scripts/check_deploy.py

# The Python and TypeScript SDKs (sdk/) against the real server binary: the Python package
# built as a wheel into a fresh venv, mypy --strict and pytest; the TypeScript package with
# tsc and node's test runner. See docs/sdk-python.md and docs/sdk-typescript.md.
test-sdk:
	$(CARGO) build --workspace --bins
	scripts/test-sdk.sh

# The Prometheus alerting rules (deploy/prometheus/): syntax with `promtool check rules`,
# behaviour with the unit tests beside them (`promtool test rules`). Debian's `prometheus`
# package brings promtool (scripts/install-deps.sh).
test-prometheus:
	promtool check rules deploy/prometheus/keyhold-alerts.yml
	promtool test rules deploy/prometheus/keyhold-alerts.test.yml

# The real app in a real window under Xvfb, driven by tauri-driver + WebKitWebDriver.
# Always --workspace: selecting single packages changes feature unification and would
# rebuild half the dependency tree.
test-desktop:
	$(CARGO) build --workspace --bins
ifeq ($(NEXTEST),yes)
	$(XVFB) $(CARGO) nextest run --workspace --no-fail-fast -E 'binary(desktop)'
else
	$(XVFB) $(CARGO) test --workspace --test desktop
endif

# Debian packages and RPMs in dist/ (scripts/dist.py; docs/operations.md, "Installing from
# the packages"): keyhold-server and keyhold from the release profile, keyhold-desktop from the
# `desktop` profile with the UI embedded. Release builds take minutes: not part of
# `make test`, which checks the packaging itself from the debug binaries (test-deploy).
# DESKTOP_PROFILE=release packages a quicker, larger app build (e.g. for a trial install).
DIST_TARGET := $(or $(CARGO_TARGET_DIR),target)
DESKTOP_PROFILE ?= desktop
dist: ui
	$(CARGO) build --workspace --release --bins
	$(CARGO) build --profile $(DESKTOP_PROFILE) -p keyhold-desktop --features keyhold-desktop/custom-protocol
	python3 scripts/dist.py --out dist \
	  --server-bin $(DIST_TARGET)/release/keyhold-server \
	  --cli-bin $(DIST_TARGET)/release/keyhold \
	  --desktop-bin $(DIST_TARGET)/$(DESKTOP_PROFILE)/keyhold-desktop

bench:
	$(CARGO) build --release -p keyhold-server
	bench/login_and_me.sh

# Supply-chain checks need the network (advisory database, crates.io): kept out of
# `make test`. Policy in deny.toml; see docs/operations.md, "Supply chain".
# `make audit AUDIT_CHECKS="bans licenses sources"` skips the advisory database (offline).
AUDIT_CHECKS ?=
audit:
	@$(CARGO) deny --version >/dev/null 2>&1 || $(CARGO) install cargo-deny --locked
	$(CARGO) deny check $(AUDIT_CHECKS)

# CycloneDX SBOM of each shipped binary (server, CLI, desktop app) for a release, in dist/sbom/.
sbom:
	@$(CARGO) cyclonedx --version >/dev/null 2>&1 || $(CARGO) install cargo-cyclonedx --locked
	@scripts/sbom.sh

clean:
	$(CARGO) clean
	rm -rf ui/dist

# Fuzz every parser target for FUZZ_SECONDS each (default 10 minutes) with cargo-fuzz on
# nightly, at the lowest CPU priority. Not part of `make test`. See docs/fuzzing.md.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := secret_path scope credential otpauth json_bodies
fuzz:
	@$(CARGO) +nightly fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  nice -n 19 $(CARGO) +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done
