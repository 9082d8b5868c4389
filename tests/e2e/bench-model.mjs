#!/usr/bin/env node
// Prefill and decode speed of one model file in headless Chromium, measured
// the way bench.mjs measures banneret (fresh worker, model loaded first;
// prefill = reading the prompt and drawing one token; decode = the rate after
// the first token of a second, cached-prompt generation), for models
// bench.mjs does not cover, such as the Gemma 3 base model (plain prompt, no
// chat template: the prompt is a completion document like the writer's).
//
//   node bench-model.mjs [--model FILE] [--runs N] [--new-tokens N] [--build relaxed|simd128]
//
// FILE is a name in www/models.json (default: the Gemma entry), read from the
// model cache (BANNERET_MODEL_DIR, default ~/.cache/banneret/models).
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { manifest, MODEL_DIR } from "./lib/paths.mjs";
import { blankPage } from "./lib/pages.mjs";

const { values: opts } = parseArgs({
  options: {
    model: { type: "string", default: manifest.models.find((m) => m.file.startsWith("gemma"))?.file },
    runs: { type: "string", default: "3" },
    "new-tokens": { type: "string", default: "64" },
    build: { type: "string" },
  },
});
const entry = manifest.models.find((m) => m.file === opts.model);
if (!entry) throw new Error(`--model ${opts.model} is not in www/models.json`);
const path = join(MODEL_DIR, entry.file);
if (!existsSync(path)) throw new Error(`model file ${path} is missing: run \`make model\``);

// ~200 tokens: the start of a Chinese completion document (completion.rs).
const PROMPT = `Northwind Outfitters 中文营销文案

商品：Ridgeline Trail Runner
价格：$99，原价 $129
卖点：Vibram outsole; rock plate; 8 mm drop
Headline: Ridgeline Trail Runner，限时特惠
Subline: Ridgeline Trail Runner，现价 $99，原价 $129。
CTA: 立即选购

商品：Stormshell 3L Jacket
价格：$199，原价 $249
卖点：waterproof 3-layer membrane; pit zips; helmet-compatible hood
Headline: Stormshell 3L Jacket，限时特惠
Subline: Stormshell 3L Jacket，现价 $199，原价 $249。
CTA: 立即选购

商品：Grounded Yoga Mat
价格：$59，原价 $79
卖点：natural rubber; 4 mm cushioning
Headline:`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const server = await startServer({ modelFile: path });
  const browser = await launchChromium();
  const runs = [];
  try {
    for (let i = 0; i < Number(opts.runs); i++) {
      const context = await browser.newContext();
      const { page } = await blankPage(context, server);
      const arg = { url: `/models/${encodeURIComponent(entry.file)}`, bytes: entry.bytes, prompt: PROMPT, newTokens: Number(opts["new-tokens"]), build: opts.build ?? null };
      runs.push(await page.evaluate(`(async (a) => {
        const { WorkerClient, Kind } = await import("/client.js");
        const url = new URL("/worker.js", location.href);
        if (a.build) url.searchParams.set("build", a.build);
        const client = new WorkerClient(url);
        try {
          const t0 = performance.now();
          const info = await client.request(Kind.loadModel, { url: a.url, bytes: a.bytes });
          const loadMs = performance.now() - t0;
          const request = (n) => ({ prompt: a.prompt, options: { max_new_tokens: n, temperature: 0, stop: [] } });
          const t1 = performance.now();
          const first = await client.request(Kind.generate, request(1));
          const prefillMs = performance.now() - t1;
          let firstAt = null;
          const t2 = performance.now();
          const done = await client.request(Kind.generate, request(a.newTokens), {
            onEvent: (e) => { if (e.type === "token" && e.text && firstAt === null) firstAt = performance.now(); },
          });
          const total = performance.now() - t2;
          const generated = done.completions[0].token_ids.length;
          return { kernels: info.kernels, architecture: info.architecture, loadMs, promptTokens: first.promptTokens, prefillMs,
                   prefillTokensPerS: first.promptTokens / prefillMs * 1000, decodeTokensPerS: (generated - 1) / (total - (firstAt - t2)) * 1000,
                   generated, text: done.completions[0].text };
        } finally { client.terminate(); }
      })(${JSON.stringify(arg)})`));
      await context.close();
      process.stderr.write(`run ${i + 1}: ${JSON.stringify(runs.at(-1))}\n`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const m = (k) => median(runs.map((r) => r[k]));
  console.log(`${entry.file} in headless Chromium (${runs[0].kernels}), median of ${runs.length}:`);
  console.log(`  model load ${(m("loadMs") / 1000).toFixed(1)} s; prompt ${runs[0].promptTokens} tokens: prefill ${m("prefillTokensPerS").toFixed(1)} tok/s (${(m("prefillMs") / 1000).toFixed(2)} s); decode ${m("decodeTokensPerS").toFixed(1)} tok/s over ${runs[0].generated} tokens`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
