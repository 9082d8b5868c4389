#!/usr/bin/env bash
# `make demo`: installs what is missing, builds pkg/ and serves the demo on
# 127.0.0.1 (PORT, default 8000; PORT=0 picks a free one) until Ctrl-C.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

phase "setup: rust target" setup_rust
phase "setup: nightly toolchain" setup_nightly
phase "setup: wasm-bindgen-cli" setup_wasm_bindgen
phase "setup: wasm-pack" setup_wasm_pack
phase "setup: npm ci" setup_node
phase "setup: model" setup_model
phase "build: pkg/ (release)" "$ROOT/scripts/build-wasm.sh"
phase_summary
log "open the URL below in a browser; Ctrl-C stops the server"
exec python3 "$ROOT/scripts/serve.py" --port "${PORT:-8000}" "$@"
