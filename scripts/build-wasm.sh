#!/usr/bin/env bash
# Builds pkg/ (wasm-pack, --target web) in two variants and optimizes each
# .wasm with binaryen's wasm-opt from npm (tests/e2e/node_modules; never
# Debian's binaryen 108, which corrupts wasm-bindgen's externref table):
#
#   pkg/           SIMD128, every current browser (the npm package's main entry)
#   pkg/relaxed/   SIMD128 + relaxed SIMD (i16x8.relaxed_dot_i8x16_i7x16_s),
#                  which www/worker.js picks when WebAssembly.validate accepts
#                  a relaxed instruction. Same numerics: integer sums are exact.
#
# Usage: scripts/build-wasm.sh [--dev] [--only simd|relaxed]
# (--dev: debug profile, no wasm-opt; quicker, for iterating.)
source "$(dirname "$0")/lib.sh"

# Everything the module uses; wasm-opt must be told, or it rejects (or worse,
# lowers) the instructions. Rust's wasm32 default target features plus simd128.
WASM_FEATURES=(--enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
    --enable-mutable-globals --enable-reference-types --enable-multivalue)

profile=--release
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dev) profile=--dev ;;
        --only) only="$2"; shift ;;
        *) die "unknown argument '$1' (usage: build-wasm.sh [--dev] [--only simd|relaxed])" ;;
    esac
    shift
done

cd "$ROOT"

# build_variant NAME OUT_DIR TARGET_DIR RUSTFLAGS EXTRA_WASM_OPT_FEATURES...
# Each variant has its own target directory: RUSTFLAGS differ, and sharing
# one directory would rebuild every dependency at each switch.
build_variant() {
    local name="$1" out="$2" target_dir="$3" flags="$4"; shift 4
    # --mode no-install: use the wasm-bindgen on PATH (setup.sh pins it to Cargo.lock).
    # Its wasm-opt download is off in Cargo.toml ([package.metadata.wasm-pack]).
    CARGO_TARGET_DIR="$target_dir" RUSTFLAGS="$flags" \
        wasm-pack --quiet build --mode no-install --target web "$profile" --out-dir "$out"
    local wasm="$out/banneret_bg.wasm"
    local raw_before; raw_before=$(stat -c %s "$wasm")
    if [ "$profile" = --release ]; then
        [ -x "$WASM_OPT" ] || die "$WASM_OPT missing: run scripts/setup.sh node"
        "$WASM_OPT" -O3 "${WASM_FEATURES[@]}" "$@" --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
        mv "$wasm.opt" "$wasm"
    fi
    local raw gz
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    log "${wasm#"$ROOT/"} ($name): $raw bytes ($gz gzipped; $raw_before before wasm-opt)"
}

# wasm-pack rewrites its out-dir's package files: the baseline first, then
# the variant inside it.
if [ "$only" != relaxed ]; then
    build_variant simd128 "$ROOT/pkg" "$ROOT/target" "-C target-feature=+simd128"
fi
if [ "$only" != simd ]; then
    build_variant relaxed-simd "$ROOT/pkg/relaxed" "$ROOT/target/relaxed" \
        "-C target-feature=+simd128,+relaxed-simd" --enable-relaxed-simd
    # One package: the variant is part of pkg/, not a package of its own.
    rm -f "$ROOT/pkg/relaxed/package.json" "$ROOT/pkg/relaxed/README.md" "$ROOT/pkg/relaxed/.gitignore"
fi
if [ -f "$ROOT/pkg/package.json" ] && [ -f "$ROOT/pkg/relaxed/banneret.js" ]; then
    node -e '
        const fs = require("fs");
        const path = process.argv[1];
        const p = JSON.parse(fs.readFileSync(path, "utf8"));
        const extra = ["relaxed/banneret_bg.wasm", "relaxed/banneret.js", "relaxed/banneret.d.ts"];
        p.files = [...new Set([...(p.files ?? []), ...extra])];
        fs.writeFileSync(path, JSON.stringify(p, null, 2) + "\n");
    ' "$ROOT/pkg/package.json"
fi
