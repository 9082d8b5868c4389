// Measurement functions the benchmark harness (tests/e2e/bench.mjs) calls in
// the page. Each returns plain numbers (milliseconds, bytes); the harness
// repeats, takes medians and prints the table.
import { WorkerClient, Kind } from "./client.js";
import { downloadBytes } from "./download.js";

async function manifestModel() {
  const manifest = await (await fetch("models.json", { cache: "no-store" })).json();
  return manifest.models.find((m) => m.file === manifest.default);
}

// Cold load: worker start + wasm fetch/compile, model fetch from 127.0.0.1,
// and the model handed to the wasm. (Until the engine's loader exists, "handed
// to the wasm" means inspectModel; the engine swaps in its model load here.)
async function coldLoad() {
  const model = await manifestModel();
  const t0 = performance.now();
  const client = new WorkerClient();
  try {
    await client.request(Kind.version);
    const tWasm = performance.now();
    const bytes = await downloadBytes(`models/${encodeURIComponent(model.file)}`, { expectedBytes: model.bytes });
    const tFetch = performance.now();
    const info = await client.request(Kind.inspectModel, { bytes: bytes.buffer }, { transfer: [bytes.buffer] });
    const tReady = performance.now();
    const { wasmMemoryBytes } = await client.request(Kind.memory);
    if (info.architecture !== "llama") throw new Error(`unexpected architecture ${info.architecture}`);
    return {
      wasmReadyMs: tWasm - t0,
      modelFetchMs: tFetch - tWasm,
      modelHandoffMs: tReady - tFetch,
      coldLoadMs: tReady - t0,
      wasmMemoryBytes,
    };
  } finally {
    client.terminate();
  }
}

window.banneretBench = { coldLoad, crossOriginIsolated: () => self.crossOriginIsolated };
document.documentElement.dataset.ready = "true";
