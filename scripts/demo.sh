#!/usr/bin/env bash
# `make demo`: installs what is missing, builds pkg/ and serves the demo on
# 127.0.0.1 (PORT, default 8000; PORT=0 picks a free one) until Ctrl-C.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

# Everything but Chromium (only the tests and the benchmark drive a browser).
setup_steps rust nightly wasm-bindgen wasm-pack node model
phase "build: pkg/ (release)" "$ROOT/scripts/build-wasm.sh"
phase_summary
log "open the URL below in a browser; Ctrl-C stops the server"
exec python3 "$ROOT/scripts/serve.py" --port "${PORT:-8000}" "$@"
