// The worker message protocol: the one table of message kinds, shared by
// worker.js and client.js.
//
// Request  (page → worker): { id, kind, ...payload }     (ids are unique per client)
// Response (worker → page): { id, ok: true, value } or { id, ok: false, error: { name, message } }
// Error names are the crate's error codes (e.g. "invalid_model"), or one of
// WorkerError for failures outside the wasm exports.

export const Kind = Object.freeze({
  // payload: {} → value: { version } (crate version; also proves the wasm loaded)
  version: "version",
  // payload: { bytes: ArrayBuffer } (transferred, not copied) → value: the
  // inspectModel summary { architecture, name, version, tensorCount, metadataKeys, dataOffset }
  inspectModel: "inspectModel",
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
