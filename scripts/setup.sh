#!/usr/bin/env bash
# Installs what building and testing need, idempotently: each step checks
# first and does nothing when its tool is already there at the right version.
# Usage: scripts/setup.sh [rust|nightly|wasm-bindgen|wasm-pack|chromium|node|model|all]...
# Caches outside the checkout are reused: ~/.cargo, ~/.npm, pip's cache and
# $BANNERET_MODEL_DIR (~/.cache/banneret/models).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wasm-pack only drives cargo and wasm-bindgen here (its downloads are off, see
# Cargo.toml's [package.metadata.wasm-pack]), so any recent release works.
WASM_PACK_VERSION="0.15.1"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# cargo install with the crate's own lockfile; when this registry lacks a
# locked version (it has happened: webpki-roots 1.0.11 for wasm-bindgen-cli),
# resolve afresh within the crate's semver ranges instead.
cargo_install() {
    cargo install --locked --force "$@" || {
        log "cargo install --locked $* failed; retrying without --locked"
        cargo install --force "$@"
    }
}

APT_UPDATED=""
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_rust() {
    have cargo || die "cargo not found: install Rust with rustup (https://rustup.rs), then rerun"
    have rustup || die "rustup not found: the wasm32 target is added with rustup; install Rust with rustup"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown \
            || die "rustup could not add wasm32-unknown-unknown (it downloads from the Rust project's servers, not a package registry)"
    fi
}

# The threaded wasm build (scripts/build-wasm.sh) compiles std itself with
# atomics: a nightly toolchain with its source.
setup_nightly() {
    if ! rustup toolchain list | grep -q "^$NIGHTLY"; then
        log "rustup toolchain install $NIGHTLY (for the threaded wasm build)"
        rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src \
            || die "rustup could not install the $NIGHTLY toolchain (it downloads from the Rust project's servers)"
    fi
    if ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^rust-src'; then
        rustup component add rust-src --toolchain "$NIGHTLY" \
            || die "rustup could not add rust-src to $NIGHTLY"
    fi
}

setup_wasm_bindgen() {
    local want; want="$(wasm_bindgen_version)"
    [ -n "$want" ] || die "no wasm-bindgen entry in Cargo.lock"
    if have wasm-bindgen && have wasm-bindgen-test-runner \
        && [ "$(wasm-bindgen --version)" = "wasm-bindgen $want" ]; then
        return 0
    fi
    log "cargo install wasm-bindgen-cli $want (must equal the crate's wasm-bindgen)"
    cargo_install wasm-bindgen-cli --version "=$want"
}

setup_wasm_pack() {
    if have wasm-pack && [ "$(wasm-pack --version)" = "wasm-pack $WASM_PACK_VERSION" ]; then
        return 0
    fi
    log "cargo install wasm-pack $WASM_PACK_VERSION"
    cargo_install wasm-pack --version "=$WASM_PACK_VERSION"
}

setup_chromium() {
    # Debian's browser and driver; test tools never download their own browser.
    apt_install chromium chromium-driver fonts-liberation
}

setup_node() {
    if ! have node || ! have npm; then apt_install nodejs npm; fi
    # npm ci only when the lockfile changed since the last install.
    local stamp="$E2E_DIR/node_modules/.banneret-lock.sha256"
    local want; want="$(sha256sum "$E2E_DIR/package-lock.json" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$WASM_OPT" ]; then
        return 0
    fi
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$want" > "$stamp"
}

setup_model() {
    have python3 || apt_install python3 python3-pip
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    # Every model in www/models.json: the tests check each one against llama.cpp.
    local file
    for file in $(python3 -c 'import json, sys; print(*(m["file"] for m in json.load(open(sys.argv[1]))["models"]))' \
        "$ROOT/www/models.json"); do
        python3 "$ROOT/scripts/models.py" fetch "$file" >/dev/null
    done
}

# setup_steps STEP...: runs the named steps (or `all`) as timed phases, in
# the order given. scripts/demo.sh, test.sh and bench.sh call it too.
setup_steps() {
    local steps=("$@")
    [ "${#steps[@]}" -gt 0 ] || steps=(all)
    [ "${steps[0]}" != all ] || steps=(rust nightly wasm-bindgen wasm-pack chromium node model)
    for s in "${steps[@]}"; do
        case "$s" in
            rust) phase "setup: rust target" setup_rust ;;
            nightly) phase "setup: nightly toolchain" setup_nightly ;;
            wasm-bindgen) phase "setup: wasm-bindgen-cli" setup_wasm_bindgen ;;
            wasm-pack) phase "setup: wasm-pack" setup_wasm_pack ;;
            chromium) phase "setup: chromium" setup_chromium ;;
            node) phase "setup: npm ci" setup_node ;;
            model) phase "setup: model" setup_model ;;
            *) die "unknown setup step '$s'" ;;
        esac
    done
}

main() {
    trap phase_summary EXIT
    setup_steps "$@"
}

[ "${BASH_SOURCE[0]}" != "$0" ] || main "$@"
