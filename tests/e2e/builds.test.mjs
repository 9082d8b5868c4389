// The wasm builds of pkg/ (scripts/build-wasm.sh) in headless Chromium: the
// worker picks the relaxed-SIMD build where the browser supports it (and the
// threaded build on a cross-origin isolated page), and the builds compute
// the same greedy tokens as the native command-line tool
// (integer sums are exact, float operations run in one order in every
// kernel, and the rotary tables use no libm, so all three agree bit for bit).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { modelPath, ROOT } from "./lib/paths.mjs";

const MODEL = modelPath();
const NEW_TOKENS = 40;
// Raw ChatML: the text both builds read.
const PROMPT =
  "<|im_start|>system\nYou are a copywriter for an outdoor store. Warm, plain words.<|im_end|>\n" +
  "<|im_start|>user\nWrite a homepage banner for trail running shoes on sale, $129 now $99: " +
  "a headline, a subline and a call to action.<|im_end|>\n<|im_start|>assistant\n";
let server, browser;

before(async () => {
  server = await startServer({ modelFile: MODEL });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("Chromium gets the relaxed-SIMD build, and both builds give the same greedy tokens", async () => {
  const page = await browser.newPage();
  const problems = watchPage(page);
  await page.goto(`${server.url}bench.html`);
  await page.waitForSelector("html[data-ready=true]");
  const run = (build) => page.evaluate(({ build, prompt, n }) => window.banneretBench.greedyTokens({ build, prompt, newTokens: n }), { build, prompt: PROMPT, n: NEW_TOKENS });
  const auto = await run(undefined);
  assert.equal(auto.kernels, "wasm relaxed-simd");
  const simd = await run("simd128");
  assert.equal(simd.kernels, "wasm simd128");
  assert.ok(auto.tokenIds.length >= 16, `only ${auto.tokenIds.length} tokens: ${auto.text}`);
  assert.deepEqual(simd.tokenIds, auto.tokenIds, `simd128: ${simd.text}\nrelaxed: ${auto.text}`);
  // The native tool (built by the native test phase; cargo reuses it).
  const native = JSON.parse(
    execFileSync(
      "cargo",
      ["run", "--quiet", "--bin", "banneret", "--", "generate", "--model", MODEL, "--prompt", PROMPT,
        "--temperature", "0", "--max_new_tokens", String(NEW_TOKENS)],
      { cwd: fileURLToPath(ROOT), encoding: "utf8", maxBuffer: 1 << 24 },
    ),
  );
  assert.deepEqual(auto.tokenIds, native.ids, `native: ${native.text}\nbrowser: ${auto.text}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a cross-origin isolated page gets the threaded relaxed-SIMD build, one thread per core by default, with the simd128 build's greedy tokens", async () => {
  const isolated = await startServer({ modelFile: MODEL, args: ["--isolate"] });
  const page = await browser.newPage();
  const problems = watchPage(page);
  try {
    await page.goto(`${isolated.url}bench.html`);
    await page.waitForSelector("html[data-ready=true]");
    assert.equal(await page.evaluate(() => window.banneretBench.crossOriginIsolated()), true);
    const run = (opts) => page.evaluate((o) => window.banneretBench.greedyTokens(o), { ...opts, prompt: PROMPT, newTokens: NEW_TOKENS });
    const threaded = await run({ threads: 2 });
    assert.equal(threaded.kernels, "wasm relaxed-simd");
    assert.equal(threaded.threads, 2, "the helper thread did not start");
    // Unasked, the worker uses every core (at most 4) on an isolated page.
    const cores = await page.evaluate(() => Math.min(4, navigator.hardwareConcurrency));
    if (cores > 1) {
      const auto = await run({});
      assert.equal(auto.threads, cores);
      assert.deepEqual(auto.tokenIds, threaded.tokenIds);
    }
    // One thread on the same isolated page: the single-thread builds.
    const single = await run({ threads: 1 });
    assert.equal(single.threads, 1);
    const simd = await run({ build: "simd128" });
    assert.ok(threaded.tokenIds.length >= 16, `only ${threaded.tokenIds.length} tokens: ${threaded.text}`);
    assert.deepEqual(threaded.tokenIds, simd.tokenIds, `threads: ${threaded.text}\nsimd128: ${simd.text}`);
    assert.deepEqual(single.tokenIds, simd.tokenIds);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await isolated.close();
  }
});
