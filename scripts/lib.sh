# Shared helpers for the project's scripts (sourced, not run): paths, caches,
# logging and per-phase timing. Every tool version comes from a project file
# (Cargo.lock, tests/e2e/package-lock.json, www/models.json), never from here.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Caches live outside the checkout so fresh clones reuse them.
export BANNERET_CACHE="${BANNERET_CACHE:-$HOME/.cache/banneret}"
export BANNERET_MODEL_DIR="${BANNERET_MODEL_DIR:-$BANNERET_CACHE/models}"
export PATH="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin:$HOME/.cargo/bin:$PATH"
E2E_DIR="$ROOT/tests/e2e"
# The one wasm-opt this project uses: binaryen from npm, pinned in tests/e2e/package-lock.json.
WASM_OPT="$E2E_DIR/node_modules/.bin/wasm-opt"
# The toolchain of the threaded wasm build (-Z build-std needs a nightly).
NIGHTLY="${BANNERET_NIGHTLY:-nightly}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# phase NAME CMD...: runs CMD (under set -e), records its wall time for
# phase_summary; a phase that fails is reported as such by phase_summary.
PHASES=()
CURRENT_PHASE=""
PHASE_START=0
phase() {
    CURRENT_PHASE="$1"; shift
    PHASE_START=$SECONDS
    log "$CURRENT_PHASE"
    "$@"
    local took=$((SECONDS - PHASE_START))
    PHASES+=("$(printf '%-30s %5d s' "$CURRENT_PHASE" "$took")")
    log "$CURRENT_PHASE: done in ${took}s"
    CURRENT_PHASE=""
}
phase_summary() {
    if [ -n "$CURRENT_PHASE" ]; then
        PHASES+=("$(printf '%-30s %5d s  FAILED' "$CURRENT_PHASE" $((SECONDS - PHASE_START)))")
        CURRENT_PHASE=""
    fi
    [ "${#PHASES[@]}" -gt 0 ] || return 0
    printf '\nphase timings (wall clock):\n' >&2
    printf '  %s\n' "${PHASES[@]}" >&2
    printf '  %-30s %5d s\n' "total" "$SECONDS" >&2
}

# The exact wasm-bindgen version the crate links, read from Cargo.lock.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Path of the default model file, from www/models.json.
default_model_path() {
    printf '%s/%s\n' "$BANNERET_MODEL_DIR" "$(python3 "$ROOT/scripts/models.py" default-file)"
}
