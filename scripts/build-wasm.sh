#!/usr/bin/env bash
# Builds pkg/ (wasm-pack, --target web) in two variants and optimizes each
# .wasm with binaryen's wasm-opt from npm (tests/e2e/node_modules; never
# Debian's binaryen 108, which corrupts wasm-bindgen's externref table):
#
#   pkg/           SIMD128, every current browser (the npm package's main entry)
#   pkg/relaxed/   SIMD128 + relaxed SIMD (i16x8.relaxed_dot_i8x16_i7x16_s),
#                  which www/worker.js picks when WebAssembly.validate accepts
#                  a relaxed instruction. Same numerics: integer sums are exact.
#   pkg/threads/   SIMD128 + wasm threads (shared memory, atomics), built with
#                  the nightly toolchain and -Z build-std (std itself must be
#                  compiled with atomics); www/worker.js picks it on
#                  cross-origin isolated pages and starts helper Web Workers
#                  (www/threads.js). Same numerics as pkg/.
#
# Usage: scripts/build-wasm.sh [--dev] [--only simd|relaxed|threads]
# (--dev: debug profile, no wasm-opt; quicker, for iterating.)
source "$(dirname "$0")/lib.sh"

# Everything the module uses; wasm-opt must be told, or it rejects (or worse,
# lowers) the instructions. Rust's wasm32 default target features plus simd128.
WASM_FEATURES=(--enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
    --enable-mutable-globals --enable-reference-types --enable-multivalue)

# -O3, and --low-memory-unused: fold `load(p + C)` (C < 1024) into the
# instruction's offset, which V8 folds into the x86 address, where an add
# would cost an instruction of its own (the kernels' constant offsets, which
# rustc leaves as adds). The two differ only if p + C wraps past 2^32, which
# a valid pointer cannot: memory stays far below 4 GiB, and the 1 MiB stack
# sits first (--stack-first), so nothing lives in the low 1 KiB but the
# bottom of a nearly overflowing stack. Browser A/B, one thread, 10 pairs,
# together with the kernels' held activations: decode 1.06x, prefill 1.04x.
WASM_OPT_FLAGS=(-O3 --low-memory-unused)

profile=--release
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dev) profile=--dev ;;
        --only) only="$2"; shift ;;
        *) die "unknown argument '$1' (usage: build-wasm.sh [--dev] [--only simd|relaxed|threads])" ;;
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
        "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "${WASM_FEATURES[@]}" "$@" --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
        mv "$wasm.opt" "$wasm"
    fi
    local raw gz
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    log "${wasm#"$ROOT/"} ($name): $raw bytes ($gz gzipped; $raw_before before wasm-opt)"
}

# The threaded variant: cargo and wasm-bindgen directly, as wasm-pack would
# look for (and try to download) a prebuilt wasm32 std for the nightly
# toolchain, which -Z build-std makes unneeded.
build_threads() {
    local out="$ROOT/pkg/threads" target_dir="$ROOT/target/threads" cargo_profile=release dir=release
    [ "$profile" = --release ] || { cargo_profile=dev; dir=debug; }
    # The linker flags (on the final crate only: RUSTFLAGS would rebuild every
    # dependency when they change) make the memory imported and shared, and
    # export the thread-local storage setup wasm-bindgen's thread support needs;
    # this rustc does not add them for +atomics by itself.
    local link=(--shared-memory --import-memory --max-memory=1073741824
        --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)
    RUSTUP_TOOLCHAIN="$NIGHTLY" CARGO_TARGET_DIR="$target_dir" \
        RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128,+relaxed-simd" \
        cargo rustc --quiet --lib --crate-type cdylib --target wasm32-unknown-unknown --profile "$cargo_profile" \
        -Z build-std=panic_abort,std -- "${link[@]/#/-Clink-arg=}"
    rm -rf "$out"
    wasm-bindgen --target web --out-dir "$out" "$target_dir/wasm32-unknown-unknown/$dir/banneret.wasm"
    local wasm="$out/banneret_bg.wasm"
    local raw_before; raw_before=$(stat -c %s "$wasm")
    if [ "$profile" = --release ]; then
        [ -x "$WASM_OPT" ] || die "$WASM_OPT missing: run scripts/setup.sh node"
        "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "${WASM_FEATURES[@]}" --enable-threads --enable-relaxed-simd --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
        mv "$wasm.opt" "$wasm"
    fi
    local raw gz
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    log "${wasm#"$ROOT/"} (threads): $raw bytes ($gz gzipped; $raw_before before wasm-opt)"
}

# wasm-pack rewrites its out-dir's package files: the baseline first, then
# the variants inside it.
if [ -z "$only" ] || [ "$only" = simd ]; then
    build_variant simd128 "$ROOT/pkg" "$ROOT/target" "-C target-feature=+simd128"
fi
if [ -z "$only" ] || [ "$only" = relaxed ]; then
    build_variant relaxed-simd "$ROOT/pkg/relaxed" "$ROOT/target/relaxed" \
        "-C target-feature=+simd128,+relaxed-simd" --enable-relaxed-simd
    # One package: the variant is part of pkg/, not a package of its own.
    rm -f "$ROOT/pkg/relaxed/package.json" "$ROOT/pkg/relaxed/README.md" "$ROOT/pkg/relaxed/.gitignore"
fi
if [ -z "$only" ] || [ "$only" = threads ]; then
    build_threads
fi
if [ -f "$ROOT/pkg/package.json" ] && [ -f "$ROOT/pkg/relaxed/banneret.js" ] && [ -f "$ROOT/pkg/threads/banneret.js" ]; then
    node -e '
        const fs = require("fs");
        const path = process.argv[1];
        const p = JSON.parse(fs.readFileSync(path, "utf8"));
        const extra = ["relaxed/banneret_bg.wasm", "relaxed/banneret.js", "relaxed/banneret.d.ts",
            "threads/banneret_bg.wasm", "threads/banneret.js", "threads/banneret.d.ts"];
        p.files = [...new Set([...(p.files ?? []), ...extra])];
        fs.writeFileSync(path, JSON.stringify(p, null, 2) + "\n");
    ' "$ROOT/pkg/package.json"
fi
