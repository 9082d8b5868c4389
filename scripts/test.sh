#!/usr/bin/env bash
# `make test`: installs what is missing (scripts/setup.sh), then runs every
# test: native cargo tests, the wasm boundary in headless Chromium
# (wasm-pack test), and the end-to-end tests (tests/e2e, real model, real
# browser). Prints the wall time of each phase at the end.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
trap phase_summary EXIT

export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/webdriver.json"

run_native() { cargo test --all-targets --quiet && cargo test --doc --quiet; }
# Only tests/web.rs runs in the browser: other integration tests may read files.
# --release reuses the dependencies the pkg/ build just compiled (and tests
# the optimized code that ships). The runner reads Chromium's flags from
# webdriver.json.
run_wasm_boundary() {
    wasm-pack test --release --mode no-install --headless --chrome --chromedriver "$CHROMEDRIVER" -- --test web
}
run_e2e() { (cd "$E2E_DIR" && node --test --test-reporter=spec --test-concurrency=1 ./*.test.mjs); }

setup_steps all
phase "test: native (cargo test)" run_native
phase "build: pkg/ (release)" "$ROOT/scripts/build-wasm.sh"
phase "test: wasm boundary" run_wasm_boundary
phase "test: end-to-end" run_e2e
