// The worker message protocol: the one table of message kinds, shared by
// worker.js and client.js.
//
// Request  (page → worker): { id, kind, ...payload }     (ids are unique per client)
// Started  (worker → page): { id, started: true }         (a queued request begins to run)
// Event    (worker → page): { id, event: {...} }          (zero or more, before the response)
// Response (worker → page): { id, ok: true, value } or { id, ok: false, error: { name, message } }
// Fatal    (worker → page): { fatal: { name, message } }  (the wasm instance trapped: the
//                                                         worker closes; the client restarts it)
// Error names are the crate's error codes (e.g. "invalid_model"), or one of
// WorkerError for failures outside the wasm exports.
//
// A model descriptor is { url, sha256?, bytes?, cache? }: `sha256` (hex) is
// checked against the streamed bytes, `bytes` against Content-Length, and
// `cache: true` keeps a verified copy in the Cache API (model-cache.js).
// Stores (a catalog and a brand) are kept by a `store` key ("default" when
// left out), so writers with different stores share the one worker.

export const Kind = Object.freeze({
  // payload: {} → value: { version } (crate version; also proves the wasm loaded)
  version: "version",
  // payload: { bytes: ArrayBuffer } (transferred, not copied) → value: the
  // inspectModel summary { architecture, name, version, tensorCount, metadataKeys, dataOffset }
  inspectModel: "inspectModel",
  // payload: a model descriptor (`expectedBytes` is the older name of `bytes`) →
  // events { type: "progress", loaded, total, source: "network" | "cache" } as bytes
  // arrive (they go straight into the engine) → value: the model's info plus
  // { url, sha256, source: "network" | "cache" | "memory", cache: { status, reason?, discarded? } }
  // (model-cache.js). The model already loaded is not loaded again (source "memory").
  loadModel: "loadModel",
  // payload: {} → value: { unloaded: bool } (frees the model's memory)
  unloadModel: "unloadModel",
  // payload: { prompt | messages, options } → events { type: "token", sequence, text,
  // promptRead, promptTokens } → value: { completions, promptTokens, timings }
  generate: "generate",
  // payload: { catalog, brand, default_language?, store? } (fixture formats; default_language:
  // the copy's language when the model cannot write the visitor's, "en" when left out)
  // → value: { warnings } (what cleaning changed)
  setStore: "setStore",
  // payload: { kinds: ["banner", ...], store? } → value: { prompts, tokens } after reading each
  // kind's visitor-independent prompt beginnings (Writer.warmupPrompts: one per product the
  // worked example can show) into the engine's prompt cache (writes then read only their own
  // tail). Cancellable like generate.
  warmup: "warmup",
  // payload: { store } → value: { dropped: bool }
  dropStore: "dropStore",
  // payload: { request, store? } (a write request without model work) → value: { plan, warnings }
  plan: "plan",
  // payload: { request: { kind, goal?, tone?, locale?, profile?, seed?, num_return_sequences?, ... },
  // store?, model? } (with `model`, that model is loaded first unless it is the one in memory,
  // with its progress events) → events { type: "attempt" | "token", ... } (token text is raw,
  // unchecked model output: a preview at most) → value: the write result
  // { copy, source, personalized, plan, checks, ... }
  write: "write",
  // payload: { request: { kind, copy, operation, ... }, store?, model? } → events and value as write
  rewrite: "rewrite",
  // payload: { target } (the id of a loadModel, generate, write or rewrite request, running or
  // queued) → value: { cancelled: bool } (false when the target is not known or already
  // answered); the target then fails with WorkerError.cancelled
  cancel: "cancel",
  // payload: {} → value: { wasmMemoryBytes, heapBytes } (the size of the wasm linear
  // memory: it only grows, so after a workload it is that workload's peak; and the heap
  // bytes allocated and not freed now, which show a leak the size would hide)
  memory: "memory",
});

export const WorkerError = Object.freeze({
  // The wasm module could not be fetched, compiled or instantiated.
  wasmInit: "wasm_init",
  // The request named no known kind.
  unknownKind: "unknown_kind",
  // The worker died (a wasm trap, out of memory); the client restarts it on the next request.
  crashed: "worker_crashed",
  // The model's bytes do not have the SHA-256 the descriptor names.
  integrity: "model_integrity",
  // generate before loadModel finished.
  noModel: "no_model",
  // write, rewrite or plan before setStore.
  noStore: "no_store",
  // The model download failed (HTTP status, short body, size differs from the descriptor).
  download: "download_failed",
  // A cancel request stopped it (the crate's own code for cancellation).
  cancelled: "cancelled",
});

// Rebuilds an Error from its { name, message } wire form (structured clone
// keeps only the standard error names, so names travel as plain strings).
export function errorFromWire({ name, message }) {
  const error = new Error(message);
  error.name = name;
  return error;
}

export function errorToWire(error) {
  return { name: String(error?.name ?? "Error"), message: String(error?.message ?? error) };
}
