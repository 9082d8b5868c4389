#!/usr/bin/env bash
# `make bench`: installs what is missing, builds pkg/ (release), then runs the
# browser benchmark (tests/e2e/bench.mjs; options after --, e.g. --runs 5).
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

phase "setup: rust target" setup_rust
phase "setup: nightly toolchain" setup_nightly
phase "setup: wasm-bindgen-cli" setup_wasm_bindgen
phase "setup: wasm-pack" setup_wasm_pack
phase "setup: chromium" setup_chromium
phase "setup: npm ci" setup_node
phase "setup: model" setup_model
phase "build: pkg/ (release)" "$ROOT/scripts/build-wasm.sh"
phase_summary
exec node "$E2E_DIR/bench.mjs" "$@"
