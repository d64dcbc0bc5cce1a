# quotaboard. A newcomer needs two commands: `make run` and `make test`.
# Everything else here is what those two are made of.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# end2end/node_modules/.bin first: cargo-leptos must find binaryen's wasm-opt 132 from npm.
# Debian's binaryen 108 corrupts the multi-table (reference-types) modules Rust 1.95 emits:
# the optimised app fails at start-up with "WebAssembly.Table.set(): Argument 1 is invalid".
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.10
# wasm-bindgen's CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3; exit }' Cargo.lock)
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),$(CARGO_BUILD_TARGET_DIR),target))
BIN := $(TARGET_DIR)/release/quotaboard
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
SITE_ADDR := $(or $(LEPTOS_SITE_ADDR),127.0.0.1:3000)

.PHONY: setup build run dev test test-rust test-wasm-deps test-e2e lint fmt clean

## setup: install what is missing (idempotent; a second run takes seconds)
setup:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -qw "$(CARGO_LEPTOS_VERSION)" \
	  || cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads
	@wasm-bindgen --version 2>/dev/null | grep -qw "$(WASM_BINDGEN_VERSION)" \
	  || cargo install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION)
	@[ -x /usr/bin/chromium ] \
	  || ($(SUDO) apt-get update -qq \
	      && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	@[ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ] \
	  || (cd end2end && npm ci --no-audit --no-fund)
	@# ECharts (npm, pinned in end2end/package-lock.json) is served from our own origin.
	@mkdir -p public/vendor
	@cmp -s end2end/node_modules/echarts/dist/echarts.min.js public/vendor/echarts.min.js \
	  || cp end2end/node_modules/echarts/dist/echarts.min.js public/vendor/echarts.min.js

## build: release server binary and site (WASM, JS, CSS, assets) into target/site
build: setup
	cargo leptos build --release

## run: build, create/migrate data/quotaboard.db, load the demo data if empty, serve
run: build
	@mkdir -p data
	$(BIN) --config Leptos.toml migrate
	$(BIN) --config Leptos.toml demo
	@echo
	@echo "  quotaboard is starting on http://$(SITE_ADDR)/usage"
	@echo "  Sign in as admin@acme.example (or member@acme.example) with the password"
	@echo "  quotaboard-demo. Plain HTTP on this machine only, so the session cookie is"
	@echo "  not marked Secure here. Stop with Ctrl-C."
	@echo
	QUOTABOARD_SESSION_COOKIE_SECURE=false $(BIN) --config Leptos.toml serve

## dev: rebuild and restart on every change (cargo leptos watch), serving the same database
dev: setup
	@mkdir -p data
	QUOTABOARD_SESSION_COOKIE_SECURE=false cargo leptos watch

## test: every test: Rust (SQLite, and Postgres when TEST_DATABASE_URL is set),
## the WASM dependency check, then Playwright in Chromium against a fresh release build
test: setup test-rust test-wasm-deps test-e2e

test-rust:
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then echo "storage tests: SQLite and PostgreSQL"; \
	  else echo "storage tests: SQLite only (set TEST_DATABASE_URL for PostgreSQL)"; fi
	cargo test --locked

test-wasm-deps:
	@tree=$$(cargo tree --locked --target wasm32-unknown-unknown --no-default-features --features hydrate -e normal); \
	  bad=$$(grep -oE '\b(sqlx|axum|tokio|mio) v' <<<"$$tree" | sort -u | tr '\n' ' ' || true); \
	  if [ -n "$$bad" ]; then echo "the hydrate (WASM) build pulls server crates: $$bad" >&2; exit 1; fi; \
	  echo "hydrate dependency tree: no sqlx, axum, tokio or mio"

test-e2e: build
	cd end2end && QB_E2E_BIN="$(BIN)" npx playwright test

## lint: formatting and clippy (warnings are errors) for the server and the browser build
lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

fmt:
	cargo fmt

clean:
	cargo clean
	rm -rf target/site end2end/test-results end2end/playwright-report
