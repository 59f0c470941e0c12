# Quarry's task runner. The two commands of the README are `make sample` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install sample test test-rust test-python fuzz lint up down bench clean

install:            ## everything: Debian packages, venv + Rust core, MinIO built with Go
	deploy/install.sh

sample: install     ## start MinIO, Ray, Prometheus; forge a sample image; run a job; print the summary
	deploy/sample.sh

test: install lint test-rust test-python fuzz   ## all tests (Rust, Python unit, integration with real servers, fuzzing)

test-rust:
	cargo test --release --locked

test-python:
	$(PY) -m pytest tests

fuzz:               ## every carve walker and the scanner under cargo-fuzz, FUZZ_SECONDS (10) each
	deploy/fuzz.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cargo fmt --check
	cargo clippy --locked --all-targets --features python -- -D warnings

up:
	deploy/local-up.sh

down:
	deploy/local-down.sh

bench:              ## benchmarks against the peers a lab would use (on demand, never in `make test`)
	$(PY) -m bench.run

clean:
	rm -rf target $(VENV) .pytest_cache .ruff_cache
