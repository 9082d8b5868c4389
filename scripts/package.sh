#!/usr/bin/env bash
# Assembles the npm-style package (default dist/npm/, or --out DIR): the JS
# API, worker, custom element, profile collector and TypeScript declarations
# from www/, next to wasm-pack's pkg/ (every build in it, e.g. pkg/relaxed/),
# with a package.json carrying the crate's version. The layout is www/'s, so
# the modules find each other and the wasm the same way in both. Run after
# scripts/build-wasm.sh. Usage: scripts/package.sh [--out DIR]
source "$(dirname "$0")/lib.sh"

out="$ROOT/dist/npm"
if [ "${1:-}" = --out ]; then
    [ -n "${2:-}" ] || die "--out needs a directory"
    out="$2"
fi
# The package's modules; tests/e2e/package.test.mjs checks that every import
# among them (and of pkg/) resolves inside the package.
MODULES=(banneret.js banneret.d.ts api.js client.js errors.js model-cache.js profile.js protocol.js slot.js worker.js threads.js threads-worker.js)

[ -f "$ROOT/pkg/banneret.js" ] || die "pkg/ is not built: run scripts/build-wasm.sh (or make build) first"
version="$(awk -F'"' '/^version = / { print $2; exit }' "$ROOT/Cargo.toml")"
license="$(awk -F'"' '/^license = / { print $2; exit }' "$ROOT/Cargo.toml")"

rm -rf "$out"
mkdir -p "$out/pkg"
for f in "${MODULES[@]}"; do cp "$ROOT/www/$f" "$out/$f"; done
# wasm-pack's JS glue, wasm and declarations, without its own package.json.
(cd "$ROOT/pkg" && find . -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.d.ts' \) -print0 \
    | xargs -0 -I{} cp --parents {} "$out/pkg/")

cat > "$out/package.json" <<JSON
{
  "name": "banneret",
  "version": "$version",
  "description": "Personalized marketing copy written on the visitor's device by a small language model (WebAssembly, in a Web Worker). Nothing about the visitor leaves the browser.",
  "license": "$license",
  "type": "module",
  "main": "./banneret.js",
  "module": "./banneret.js",
  "types": "./banneret.d.ts",
  "exports": {
    ".": { "types": "./banneret.d.ts", "default": "./banneret.js" },
    "./worker.js": "./worker.js",
    "./pkg/*": "./pkg/*",
    "./package.json": "./package.json"
  },
  "files": ["*.js", "*.d.ts", "pkg/", "README.md"],
  "sideEffects": false,
  "keywords": ["marketing", "copywriting", "on-device", "privacy", "webassembly", "llm", "writer-api"]
}
JSON

cat > "$out/README.md" <<'MD'
# banneret

Personalized marketing copy written inside the visitor's browser by a small
language model (GGUF, WebAssembly with SIMD, in a Web Worker). The visitor's
profile, the prompts and the generated text never leave the device.

```html
<script type="module">
  import { Banneret, createProfile, defineSlot } from "./node_modules/banneret/banneret.js";
  const writer = Banneret.create({ model: { url: "/models/SmolLM2-135M-Instruct.Q4_1.gguf", sha256: "…" }, catalog, brand });
  defineSlot({ writer, profile: createProfile({ catalog }) });
</script>
<banneret-slot kind="banner" goal="winter sale"><h2 data-field="headline">Winter sale</h2></banneret-slot>
```

The model file is not part of this package: serve it yourself (it is cached
on the device after the first visit). Serve `worker.js` and `pkg/` next to
`banneret.js` (or call `Banneret.configure({ workerUrl })`). The API, the
element, the profile collector and the error names are described in the
project's README and in `banneret.d.ts`.
MD

files=$(find "$out" -type f | wc -l)
log "package: $out ($files files, version $version)"
