// Module worker owning the one wasm instance: all heavy work runs here, never
// on the page's thread. Answers each request of protocol.js by its id.
import init, * as wasm from "./pkg/banneret.js";
import { Kind, WorkerError, errorToWire } from "./protocol.js";

let instance = null;

const handlers = {
  [Kind.version]: () => ({ version: wasm.version() }),
  [Kind.inspectModel]: ({ bytes }) => wasm.inspectModel(new Uint8Array(bytes)),
  [Kind.memory]: () => ({ wasmMemoryBytes: instance.memory.buffer.byteLength }),
};
for (const kind of Object.values(Kind)) {
  if (!handlers[kind]) throw new Error(`worker.js: no handler for message kind '${kind}'`);
}

const ready = init().then(
  (exports) => {
    instance = exports;
    return null;
  },
  (e) => ({ name: WorkerError.wasmInit, message: `cannot load the wasm module: ${e?.message ?? e}` }),
);

self.onmessage = async ({ data: { id, kind, ...payload } }) => {
  const initError = await ready;
  if (initError) return self.postMessage({ id, ok: false, error: initError });
  const handler = Object.hasOwn(handlers, kind) ? handlers[kind] : null;
  if (!handler) {
    return self.postMessage({ id, ok: false, error: { name: WorkerError.unknownKind, message: `unknown message kind '${kind}'` } });
  }
  try {
    self.postMessage({ id, ok: true, value: await handler(payload) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: errorToWire(e) });
  }
};
