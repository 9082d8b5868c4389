#!/usr/bin/env node
// The browser benchmark (`make bench`): serves www/ + pkg/ + the model on
// 127.0.0.1, runs each measurement of www/bench.js in a fresh headless
// Chromium page several times, and prints medians. Refuses to report when
// other processes kept the CPU busy during the run.
//
//   node bench.mjs [--runs N] [--allow-busy] [--isolate]
import { parseArgs } from "node:util";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath, ROOT } from "./lib/paths.mjs";
import { cpuSnapshot, otherCores } from "./lib/cpu.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    "allow-busy": { type: "boolean", default: false },
    isolate: { type: "boolean", default: false },
    "max-other-cores": { type: "string", default: "0.25" },
  },
});
const RUNS = Number(opts.runs);
const MAX_OTHER = Number(opts["max-other-cores"]);

// What the engine will add (issue "Speed"): name → why it is not measured yet.
const PENDING = {
  "time to first banner": "needs the marketing pipeline's write export",
  "wllama side by side": "@wllama/wllama not added yet",
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ")).join("\n");
}

async function main() {
  const model = modelPath();
  const wasm = readFileSync(new URL("pkg/banneret_bg.wasm", ROOT));
  const server = await startServer({ modelFile: model, args: opts.isolate ? ["--isolate"] : [] });
  const browser = await launchChromium();
  const samples = {};
  const before = cpuSnapshot();
  let busy;
  try {
    for (let run = 1; run <= RUNS; run++) {
      const context = await browser.newContext(); // fresh HTTP cache and storage: a cold load
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(`${server.url}bench.html`);
      await page.waitForSelector("html[data-ready=true]");
      const result = await page.evaluate(() => window.banneretBench.coldLoad());
      const gen = await page.evaluate(() => window.banneretBench.generation({ newTokens: 128 }));
      if (errors.length) throw new Error(`run ${run}: page errors: ${errors.join("; ")}`);
      for (const [k, v] of Object.entries({ ...result, ...gen })) (samples[k] ??= []).push(v);
      process.stderr.write(
        `run ${run}/${RUNS}: cold load ${result.coldLoadMs.toFixed(0)} ms, prefill ${gen.prefillTokensPerS.toFixed(1)} tok/s, decode ${gen.decodeTokensPerS.toFixed(1)} tok/s (${result.kernels})\n`,
      );
      await context.close();
    }
    // Measured while Chromium and the server still run, so their CPU counts as ours.
    busy = otherCores(before, cpuSnapshot());
  } finally {
    await browser.close();
    await server.close();
  }

  const ms = (v) => `${v.toFixed(0)} ms`;
  const mib = (v) => `${(v / 2 ** 20).toFixed(1)} MiB`;
  const rows = [["metric", "median", "min", "max"]];
  const add = (name, key, fmt) => rows.push([name, fmt(median(samples[key])), fmt(Math.min(...samples[key])), fmt(Math.max(...samples[key]))]);
  const rate = (v) => `${v.toFixed(1)} tok/s`;
  add("wasm ready (worker + compile)", "wasmReadyMs", ms);
  add("model fetch + load (streamed)", "modelLoadMs", ms);
  add("cold load (total)", "coldLoadMs", ms);
  add("wasm memory after load", "wasmMemoryBytes", mib);
  add(`time to first token (${samples.promptTokens[0]}-token prompt)`, "timeToFirstTokenMs", ms);
  add("prefill", "prefillTokensPerS", rate);
  add(`decode (${samples.generatedTokens[0]} tokens, greedy)`, "decodeTokensPerS", rate);
  add("peak wasm memory", "peakWasmMemoryBytes", mib);
  rows.push([".wasm size raw / gzip (zlib -9)", `${wasm.length}`, `${gzipSync(wasm, { level: 9 }).length}`, "bytes"]);

  console.log(`\nbanneret benchmark — ${RUNS} runs, headless Chromium, model ${statSync(model).size} bytes, ${opts.isolate ? "cross-origin isolated" : "not isolated"}`);
  console.log(table(rows));
  console.log("\nnot measured yet:");
  for (const [name, why] of Object.entries(PENDING)) console.log(`  ${name}: ${why}`);
  const load = `other processes kept ${busy.cores.toFixed(2)} of ${busy.of} cores busy during the run`;
  if (busy.cores > MAX_OTHER && !opts["allow-busy"]) {
    console.error(`\nREFUSED: ${load} (limit ${MAX_OTHER}); rerun on a quiet machine or pass --allow-busy`);
    process.exit(3);
  }
  console.log(`\n${load}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
