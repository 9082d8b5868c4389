#!/usr/bin/env bash
# Builds pkg/ (wasm-pack, --target web) and optimizes the .wasm with binaryen's
# wasm-opt from npm (tests/e2e/node_modules; never Debian's binaryen 108, which
# corrupts wasm-bindgen's externref table). Usage: scripts/build-wasm.sh [--dev]
# (--dev: debug profile, no wasm-opt; quicker, for iterating).
source "$(dirname "$0")/lib.sh"

# Everything the module uses; wasm-opt must be told, or it rejects (or worse,
# lowers) the instructions. Rust's wasm32 default target features plus simd128
# (.cargo/config.toml).
WASM_FEATURES=(--enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
    --enable-mutable-globals --enable-reference-types --enable-multivalue)

profile=--release
[ "${1:-}" != --dev ] || profile=--dev

cd "$ROOT"
# --mode no-install: use the wasm-bindgen on PATH (setup.sh pins it to Cargo.lock).
# Its wasm-opt download is off in Cargo.toml ([package.metadata.wasm-pack]).
wasm-pack --quiet build --mode no-install --target web "$profile" --out-dir pkg
wasm="$ROOT/pkg/banneret_bg.wasm"
raw_before=$(stat -c %s "$wasm")
if [ "$profile" = --release ]; then
    [ -x "$WASM_OPT" ] || die "$WASM_OPT missing: run scripts/setup.sh node"
    "$WASM_OPT" -O3 "${WASM_FEATURES[@]}" --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
    mv "$wasm.opt" "$wasm"
fi
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
log "pkg/banneret_bg.wasm: $raw bytes ($((gz)) gzipped; $raw_before before wasm-opt)"
