// Measurement functions the benchmark harness (tests/e2e/bench.mjs) calls in
// the page, for banneret and for wllama (llama.cpp in wasm, served by the
// harness under /wllama/ from tests/e2e/node_modules). Each returns plain
// numbers (milliseconds, bytes, tokens) measured the same way for both
// engines; the harness alternates engines, takes medians and prints the table.
import { WorkerClient, Kind } from "./client.js";

async function manifestModel() {
  const manifest = await (await fetch("models.json", { cache: "no-store" })).json();
  return manifest.models.find((m) => m.file === manifest.default);
}

const modelUrl = (file) => new URL(`models/${encodeURIComponent(file)}`, location.href).href;

// A worker running the build the engine picks, or `build` ("threads",
// "relaxed", "simd128"); `threads` caps the threads (1: a single-thread build).
function newClient(build, threads) {
  const url = new URL("./worker.js", import.meta.url);
  if (build) url.searchParams.set("build", build);
  if (threads) url.searchParams.set("threads", String(threads));
  return new WorkerClient(url);
}

async function loadDefaultModel(client) {
  const model = await manifestModel();
  return client.request(Kind.loadModel, { url: modelUrl(model.file), expectedBytes: model.bytes });
}

// A ~200-token ChatML prompt: a system turn and a product brief.
const PROMPT_MESSAGES = [
  { role: "system", content: "You are a copywriter for Northwind Outfitters, an outdoor store. Voice: warm, encouraging and outdoorsy. Plain words, short sentences, active verbs. Only state prices, discounts and features that appear in the product facts. Never use the words cheap, guaranteed or miracle." },
  { role: "user", content: "Product facts: Ridgeline Trail Runner, trail running shoe with a Vibram outsole, a rock plate and an 8 mm drop; regular price $129, now $99 in the Winter Sale while stock lasts. Free shipping on orders over $75. The visitor runs trails early in the morning, viewed this shoe three times this week and searched for wide-fit trail shoes. Write a homepage banner for this visitor: a headline of at most 40 characters, a subline of at most 90 characters and a call to action of at most 20 characters. Answer as three lines: Headline:, Subline:, CTA:." },
];

// Cold load: worker start + wasm fetch/compile, then the model streamed from
// 127.0.0.1 into the engine (download and load overlap).
async function coldLoad({ build, threads } = {}) {
  const t0 = performance.now();
  const client = newClient(build, threads);
  try {
    await client.request(Kind.version);
    const tWasm = performance.now();
    const info = await loadDefaultModel(client);
    const tReady = performance.now();
    const { wasmMemoryBytes } = await client.request(Kind.memory);
    if (info.architecture !== "llama") throw new Error(`unexpected architecture ${info.architecture}`);
    return { wasmReadyMs: tWasm - t0, modelLoadMs: tReady - tWasm, coldLoadMs: tReady - t0, wasmMemoryBytes, kernels: info.kernels, threads: info.threads };
  } finally {
    client.terminate();
  }
}

// Greedy generation of `newTokens` after the ~200-token prompt, on a model
// loaded beforehand: time to first token, prefill and decode rates.
async function generation({ build, threads, newTokens = 128 } = {}) {
  const client = newClient(build, threads);
  try {
    await loadDefaultModel(client);
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

// Greedy token ids of the benchmark prompt on one build, and the build's
// kernels: the builds must agree token for token (tests/e2e/builds.test.mjs).
// `prompt` (raw text) replaces the chat messages when given.
async function greedyTokens({ build, threads, prompt, newTokens = 48 } = {}) {
  const client = newClient(build, threads);
  try {
    const info = await loadDefaultModel(client);
    const done = await client.request(Kind.generate, {
      ...(prompt === undefined ? { messages: PROMPT_MESSAGES } : { prompt }),
      options: { max_new_tokens: newTokens, temperature: 0, stop: [] },
    });
    return { kernels: info.kernels, threads: info.threads, tokenIds: done.completions[0].token_ids, text: done.completions[0].text };
  } finally {
    client.terminate();
  }
}

// Time to first banner: a full `write` of a 3-variant banner for a fixture
// profile, as a page sees it once Banneret.create() has resolved and its
// warm-up ran: the model is in memory, the store is set and each kind's
// visitor-independent prompt beginning is in the prompt cache (api.js starts
// that warm-up after create). `request` is what bench.mjs passes:
// { store: "stores/northwind/", profile: "trail-runner", kinds, write }.
// Returns the time of the write alone, the write's own timings (where the
// time went: reading the rest of the prompt, drawing, checks) and attempts,
// the copy, and the wasm memory after it (the banner's prompt caches held
// beside the model: a page that writes banners peaks here, not in a plain
// generation).
async function timeToFirstBanner({ build, threads, store, profile, kinds, write }) {
  const json = async (path) => {
    const response = await fetch(path);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  };
  const [catalog, brand, visitor] = await Promise.all([
    json(`${store}catalog.json`),
    json(`${store}brand.json`),
    json(`${store}profiles/${profile}.json`),
  ]);
  const client = newClient(build, threads);
  try {
    const info = await loadDefaultModel(client);
    await client.request(Kind.setStore, { catalog, brand });
    const t0 = performance.now();
    const warmed = await client.request(Kind.warmup, { kinds });
    const warmupMs = performance.now() - t0;
    const t1 = performance.now();
    const result = await client.request(Kind.write, { request: { ...write, profile: visitor } });
    const bannerMs = performance.now() - t1;
    const { wasmMemoryBytes } = await client.request(Kind.memory);
    return {
      available: true,
      threads: info.threads,
      timeToFirstBannerMs: bannerMs,
      warmupMs,
      warmupTokens: warmed.tokens,
      attempts: result.attempts,
      source: result.source,
      rejected: result.rejected.length,
      writeTimingsMs: result.timings_ms,
      copy: result.copy,
      wasmMemoryBytes,
    };
  } finally {
    client.terminate();
  }
}

// ---- wllama ----------------------------------------------------------------

// Injected into wllama's worker before its own code: records every wasm
// memory (created by JS for the threaded build, exported by the module
// otherwise) and answers the page's size queries over a BroadcastChannel.
const MEMORY_PROBE = `
const memories = [];
const NativeMemory = WebAssembly.Memory;
WebAssembly.Memory = function Memory(descriptor) { const m = new NativeMemory(descriptor); memories.push(m); return m; };
WebAssembly.Memory.prototype = NativeMemory.prototype;
const keep = (result) => {
  const instance = result instanceof WebAssembly.Instance ? result : result?.instance;
  for (const v of Object.values(instance?.exports ?? {})) if (v instanceof NativeMemory) memories.push(v);
  return result;
};
for (const name of ["instantiate", "instantiateStreaming"]) {
  const original = WebAssembly[name];
  WebAssembly[name] = (...args) => original.apply(WebAssembly, args).then(keep);
}
const channel = new BroadcastChannel("bench-wasm-memory");
channel.onmessage = () => channel.postMessage(Math.max(0, ...memories.map((m) => m.buffer.byteLength)));
`;

let probeInstalled = false;
function installMemoryProbe() {
  if (probeInstalled) return;
  probeInstalled = true;
  const blobUrl = (code) => URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const probe = blobUrl(MEMORY_PROBE);
  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      const target = new URL(url, location.href).href;
      const wrapper = options?.type === "module"
        ? `import ${JSON.stringify(probe)};\nimport ${JSON.stringify(target)};\n`
        : `importScripts(${JSON.stringify(probe)}, ${JSON.stringify(target)});\n`;
      super(blobUrl(wrapper), options);
    }
  };
}

async function wllamaMemoryBytes() {
  const channel = new BroadcastChannel("bench-wasm-memory");
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("wllama's worker did not report its memory")), 5000);
      channel.onmessage = ({ data }) => { clearTimeout(timer); resolve(data); };
      channel.postMessage("size?");
    });
  } finally {
    channel.close();
  }
}

const quiet = { debug() {}, log() {}, warn: (...a) => console.warn(...a), error: (...a) => console.error(...a) };

// One wllama run, measured like banneret's: cold load (module + wasm from
// 127.0.0.1, model fetched and loaded), then on the loaded model the same
// prompt with 1 new token (time to first token, prefill) and again with
// `newTokens` (the prompt cached; decode rate from the first streamed token).
async function wllama({ file, threads = 1, newTokens = 128 } = {}) {
  installMemoryProbe();
  const base = new URL("/wllama/", location.href);
  const t0 = performance.now();
  const { Wllama } = await import(new URL("esm/index.js", base).href);
  const w = new Wllama({ default: new URL("esm/wasm/wllama.wasm", base).href }, { logger: quiet, suppressNativeLog: true });
  try {
    const blob = await (await fetch(modelUrl(file))).blob();
    await w.loadModel([blob], { n_threads: threads, n_ctx: 1024, n_gpu_layers: 0 });
    const coldLoadMs = performance.now() - t0;
    const threadsUsed = w.getNumThreads();
    const request = (n) => ({ messages: PROMPT_MESSAGES, max_tokens: n, temperature: 0, cache_prompt: true });
    const t1 = performance.now();
    const first = await w.createChatCompletion(request(1));
    const prefillMs = performance.now() - t1;
    const promptTokens = first.usage.prompt_tokens;
    let firstTokenAt = null;
    let generated = 0;
    let last = null;
    const t2 = performance.now();
    const stream = await w.createChatCompletion({ ...request(newTokens), stream: true });
    for await (const chunk of stream) {
      if (chunk.choices?.[0]?.delta?.content && firstTokenAt === null) firstTokenAt = performance.now();
      last = chunk;
    }
    const end = performance.now();
    generated = last?.usage?.completion_tokens ?? last?.timings?.predicted_n ?? 0;
    const decodeMs = end - (firstTokenAt ?? t2);
    return {
      threads: threadsUsed,
      coldLoadMs,
      promptTokens,
      timeToFirstTokenMs: prefillMs,
      prefillTokensPerS: (promptTokens / prefillMs) * 1000,
      decodeTokensPerS: ((generated - 1) / decodeMs) * 1000,
      generatedTokens: generated,
      peakWasmMemoryBytes: await wllamaMemoryBytes(),
    };
  } finally {
    await w.exit();
  }
}

window.banneretBench = {
  coldLoad,
  generation,
  greedyTokens,
  timeToFirstBanner,
  wllama,
  crossOriginIsolated: () => self.crossOriginIsolated,
};
document.documentElement.dataset.ready = "true";
