// The wasm builds of pkg/ (scripts/build-wasm.sh) in headless Chromium: the
// worker picks the relaxed-SIMD build where the browser supports it, and
// both builds compute the same greedy tokens (integer sums are exact and
// float operations run in the same order, so the SIMD128 and relaxed-SIMD
// kernels agree bit for bit). The native build is not compared: its libm
// (f64 cos/sin/powf of the rotary tables) may round differently from the
// wasm one, which can flip a near-tie.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath } from "./lib/paths.mjs";

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
  assert.deepEqual(problems, []);
  await page.close();
});
