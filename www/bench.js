// Measurement functions the benchmark harness (tests/e2e/bench.mjs) calls in
// the page. Each returns plain numbers (milliseconds, bytes, tokens); the
// harness repeats, takes medians and prints the table.
import { WorkerClient, Kind } from "./client.js";

async function manifestModel() {
  const manifest = await (await fetch("models.json", { cache: "no-store" })).json();
  return manifest.models.find((m) => m.file === manifest.default);
}

// A ~200-token ChatML prompt: a system turn and a product brief.
const PROMPT_MESSAGES = [
  { role: "system", content: "You are a copywriter for Northwind Outfitters, an outdoor store. Voice: warm, encouraging and outdoorsy. Plain words, short sentences, active verbs. Only state prices, discounts and features that appear in the product facts. Never use the words cheap, guaranteed or miracle." },
  { role: "user", content: "Product facts: Ridgeline Trail Runner, trail running shoe with a Vibram outsole, a rock plate and an 8 mm drop; regular price $129, now $99 in the Winter Sale while stock lasts. Free shipping on orders over $75. The visitor runs trails early in the morning, viewed this shoe three times this week and searched for wide-fit trail shoes. Write a homepage banner for this visitor: a headline of at most 40 characters, a subline of at most 90 characters and a call to action of at most 20 characters. Answer as three lines: Headline:, Subline:, CTA:." },
];

// Cold load: worker start + wasm fetch/compile, then the model streamed from
// 127.0.0.1 into the engine (download and load overlap).
async function coldLoad() {
  const model = await manifestModel();
  const t0 = performance.now();
  const client = new WorkerClient();
  try {
    await client.request(Kind.version);
    const tWasm = performance.now();
    const info = await client.request(Kind.loadModel, {
      url: new URL(`models/${encodeURIComponent(model.file)}`, location.href).href,
      expectedBytes: model.bytes,
    });
    const tReady = performance.now();
    const { wasmMemoryBytes } = await client.request(Kind.memory);
    if (info.architecture !== "llama") throw new Error(`unexpected architecture ${info.architecture}`);
    return { wasmReadyMs: tWasm - t0, modelLoadMs: tReady - tWasm, coldLoadMs: tReady - t0, wasmMemoryBytes, kernels: info.kernels };
  } finally {
    client.terminate();
  }
}

// Greedy generation of `newTokens` after the ~200-token prompt, on a model
// loaded beforehand: time to first token, prefill and decode rates.
async function generation({ newTokens = 128 } = {}) {
  const model = await manifestModel();
  const client = new WorkerClient();
  try {
    await client.request(Kind.loadModel, {
      url: new URL(`models/${encodeURIComponent(model.file)}`, location.href).href,
      expectedBytes: model.bytes,
    });
    const request = (n) => ({ messages: PROMPT_MESSAGES, options: { max_new_tokens: n, temperature: 0, stop: [] } });
    // Prefill: the fresh engine reads the whole prompt and draws one token.
    const t0 = performance.now();
    const first = await client.request(Kind.generate, request(1));
    const prefillMs = performance.now() - t0;
    // Decode: the same prompt is now cached (only its last token is read
    // again), so the time after the first token is decoding alone.
    let firstTokenAt = null;
    const t1 = performance.now();
    const done = await client.request(Kind.generate, request(newTokens), {
      onEvent: (e) => { if (e.type === "token" && e.text && firstTokenAt === null) firstTokenAt = performance.now(); },
    });
    const total = performance.now() - t1;
    const generated = done.completions[0].token_ids.length;
    const decodeMs = total - (firstTokenAt - t1);
    const { wasmMemoryBytes } = await client.request(Kind.memory);
    return {
      promptTokens: first.promptTokens,
      timeToFirstTokenMs: prefillMs,
      prefillTokensPerS: (first.promptTokens / prefillMs) * 1000,
      decodeTokensPerS: ((generated - 1) / decodeMs) * 1000,
      generatedTokens: generated,
      peakWasmMemoryBytes: wasmMemoryBytes,
    };
  } finally {
    client.terminate();
  }
}

window.banneretBench = { coldLoad, generation, crossOriginIsolated: () => self.crossOriginIsolated };
document.documentElement.dataset.ready = "true";
