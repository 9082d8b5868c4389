// The wasm builds of pkg/ (scripts/build-wasm.sh) in headless Chromium: the
// worker picks the relaxed-SIMD build where the browser supports it, and
// every build computes the same greedy tokens (integer sums are exact, so
// the kernels agree bit for bit).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath } from "./lib/paths.mjs";

let server, browser;

before(async () => {
  server = await startServer({ modelFile: modelPath() });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function benchPage() {
  const page = await browser.newPage();
  const problems = watchPage(page);
  await page.goto(`${server.url}bench.html`);
  await page.waitForSelector("html[data-ready=true]");
  return { page, problems };
}

test("Chromium gets the relaxed-SIMD build, and every build gives the same greedy tokens", async () => {
  const { page, problems } = await benchPage();
  const auto = await page.evaluate(() => window.banneretBench.greedyTokens());
  assert.equal(auto.kernels, "wasm relaxed-simd");
  const simd = await page.evaluate(() => window.banneretBench.greedyTokens({ build: "simd128" }));
  assert.equal(simd.kernels, "wasm simd128");
  assert.ok(auto.tokenIds.length >= 16, `only ${auto.tokenIds.length} tokens: ${auto.text}`);
  assert.deepEqual(auto.tokenIds, simd.tokenIds);
  assert.deepEqual(problems, []);
  await page.close();
});
