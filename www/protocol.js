// The worker message protocol: the one table of message kinds, shared by
// worker.js and client.js.
//
// Request  (page → worker): { id, kind, ...payload }     (ids are unique per client)
// Event    (worker → page): { id, event: {...} }          (zero or more, before the response)
// Response (worker → page): { id, ok: true, value } or { id, ok: false, error: { name, message } }
// Error names are the crate's error codes (e.g. "invalid_model"), or one of
// WorkerError for failures outside the wasm exports.

export const Kind = Object.freeze({
  // payload: {} → value: { version } (crate version; also proves the wasm loaded)
  version: "version",
  // payload: { bytes: ArrayBuffer } (transferred, not copied) → value: the
  // inspectModel summary { architecture, name, version, tensorCount, metadataKeys, dataOffset }
  inspectModel: "inspectModel",
  // payload: { url, expectedBytes? } → events { type: "progress", loaded, total } as
  // bytes arrive (they go straight into the engine) → value: the model's info
  loadModel: "loadModel",
  // payload: { prompt | messages, options } → events { type: "token", sequence, text,
  // promptRead, promptTokens } → value: { completions, promptTokens, timings }
  generate: "generate",
  // payload: { catalog, brand } (fixture formats) → value: { warnings } (what cleaning changed)
  setStore: "setStore",
  // payload: { kinds: ["banner", ...] } → value: { prompts, tokens } after reading each kind's
  // visitor-independent prompt beginning into the engine's prompt cache (writes then read only
  // their own tail). Cancellable like generate.
  warmup: "warmup",
  // payload: { request } (a write request without model work) → value: { plan, warnings }
  plan: "plan",
  // payload: { request: { kind, goal?, tone?, locale?, profile?, seed?, num_return_sequences?, ... } }
  // → events { type: "attempt" | "token", ... } (token text is raw, unchecked model output:
  // a preview at most) → value: the write result { copy, source, personalized, plan, checks, ... }
  write: "write",
  // payload: { request: { kind, copy, op, ... } } → events and value as write
  rewrite: "rewrite",
  // payload: { target } (the id of a generate, write or rewrite request) → value: { cancelled: bool };
  // the target then fails with WorkerError.cancelled
  cancel: "cancel",
  // payload: {} → value: { wasmMemoryBytes } (current size of the wasm linear memory;
  // it only grows, so after a workload it is that workload's peak)
  memory: "memory",
});

export const WorkerError = Object.freeze({
  // The wasm module could not be fetched, compiled or instantiated.
  wasmInit: "wasm_init",
  // The request named no known kind.
  unknownKind: "unknown_kind",
  // The worker died (a wasm trap, out of memory); the client restarts it on the next request.
  crashed: "worker_crashed",
  // generate before loadModel finished.
  noModel: "no_model",
  // write, rewrite or plan before setStore.
  noStore: "no_store",
  // The model download failed (HTTP status, short body).
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
