#!/usr/bin/env bash
# `make bench`: installs what is missing, builds pkg/ (release), then runs the
# browser benchmark (tests/e2e/bench.mjs; options after --, e.g. --runs 5).
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

setup_steps all
phase "build: pkg/ (release)" "$ROOT/scripts/build-wasm.sh"
phase_summary
exec node "$E2E_DIR/bench.mjs" "$@"
