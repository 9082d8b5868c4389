// Module worker owning the one wasm instance: all heavy work runs here, never
// on the page's thread. Answers each request of protocol.js by its id; long
// requests (loadModel, generate, warmup, write, rewrite) post events first and
// run one at a time, in arrival order. One model is in memory at a time; stores
// (catalog + brand) are kept by key. A wasm trap closes the worker (its state
// cannot be trusted afterwards) after telling the page, which starts a new one.
import { Kind, WorkerError, errorToWire } from "./protocol.js";
import { loadModel as loadModelBytes, modelKey } from "./model-cache.js";
import { startHelpers } from "./threads.js";

// Threads the threaded build splits products across (the engine's own
// included), at most 4 (the engine's MAX_THREADS): by default one per core
// (navigator.hardwareConcurrency); `worker.js?threads=N` caps it, and
// `?threads=1` keeps the single-thread builds (Banneret.configure({ workerUrl })).
// Only a cross-origin isolated page can share memory with helpers; elsewhere
// the single-thread builds run whatever this says.
const THREADS_ASKED = Number(new URL(self.location.href).searchParams.get("threads")) || navigator.hardwareConcurrency || 1;
const THREADS = Math.max(1, Math.min(4, THREADS_ASKED));

// The builds of pkg/ (scripts/build-wasm.sh), best first; each is picked only
// where this engine can run it. Numerics are identical across builds.
const BUILDS = [
  // Shared memory and helper Web Workers, with the relaxed-SIMD kernels:
  // where the page is cross-origin isolated (SharedArrayBuffer), there is
  // more than one thread to use, and the browser has relaxed SIMD.
  {
    name: "threads",
    url: "./pkg/threads/banneret.js",
    threaded: true,
    supported: () => self.crossOriginIsolated === true && THREADS > 1 && validates(RELAXED_DOT_PROBE),
  },
  // i16x8.relaxed_dot_i8x16_i7x16_s, the instruction the relaxed kernels use.
  { name: "relaxed", url: "./pkg/relaxed/banneret.js", supported: () => validates(RELAXED_DOT_PROBE) },
  { name: "simd128", url: "./pkg/banneret.js", supported: () => true },
];
// (module (func (result v128) (i16x8.relaxed_dot_i8x16_i7x16_s (i8x16.splat (i32.const 0)) (i8x16.splat (i32.const 0)))))
const RELAXED_DOT_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 15, 1, 13, 0, 65, 0, 253, 15, 65, 0, 253, 15, 253, 146, 2, 11,
]);
function validates(bytes) {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

// The worker's URL may force a build (`worker.js?build=simd128`), for tests
// and the benchmark; otherwise the best supported one runs, falling back to
// the next when it fails to load.
async function loadBuild() {
  const forced = new URL(self.location.href).searchParams.get("build");
  const candidates = forced ? BUILDS.filter((b) => b.name === forced) : BUILDS.filter((b) => b.supported());
  if (candidates.length === 0) throw new Error(`unknown or unsupported build '${forced}'`);
  let lastError;
  for (const build of candidates) {
    try {
      const module = await import(build.url);
      const exports = await module.default();
      if (build.threaded) await startHelpers(module, new URL(build.url, import.meta.url), THREADS);
      return { module, exports };
    } catch (e) {
      lastError = e;
      if (build !== candidates.at(-1)) console.warn(`banneret: the ${build.name} build failed to load, falling back: ${e?.message ?? e}`);
    }
  }
  throw lastError;
}

let wasm = null;
let instance = null;
let engine = null;
// ---- below: requests, models and stores (the wasm is set up above) ----

// The loaded model: { url, sha256, info } next to `engine`.
let loaded = null;
const stores = new Map();
const DEFAULT_STORE = "default";
// Ids of queued requests not yet answered, and those asked to stop.
const live = new Set();
const cancelled = new Set();
// Long requests run one after another, in arrival order.
let queue = Promise.resolve();

function workerError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

// Lets queued messages (a cancel) run between two steps of a generation.
// A MessageChannel round trip is a task without setTimeout's 4 ms clamp.
const channel = new MessageChannel();
let wake = null;
channel.port1.onmessage = () => wake?.();
const yieldToEvents = () => new Promise((resolve) => { wake = resolve; channel.port2.postMessage(null); });
// Steps run back to back for this long before yielding.
const SLICE_MS = 8;

function throwIfCancelled(id) {
  if (cancelled.delete(id)) throw workerError(WorkerError.cancelled, "cancelled");
}

function unload() {
  engine?.free();
  engine = null;
  loaded = null;
}

// Loads `descriptor` unless it is the model in memory; returns its info.
async function ensureModel(id, descriptor, emit) {
  const model = modelKey({ ...descriptor, bytes: descriptor.bytes ?? descriptor.expectedBytes }, self.location.href);
  if (loaded && loaded.url === model.url && (!model.sha256 || model.sha256 === loaded.sha256)) {
    return { ...loaded.info, source: "memory" };
  }
  unload();
  const out = await loadModelBytes(wasm.ModelLoader, { ...model, cache: descriptor.cache === true }, {
    emit,
    cancelled: () => cancelled.has(id),
  });
  engine = out.engine;
  const info = { ...engine.info(), url: model.url, sha256: out.sha256 };
  loaded = { url: model.url, sha256: out.sha256, info };
  return { ...info, source: out.source, cache: out.cache };
}

// Runs `step()` until it returns a `done` event, yielding to the event loop
// every SLICE_MS so a cancel message can arrive; `onStep` sees every other event.
async function runSteps(id, step, onStep) {
  let sliceStart = performance.now();
  for (;;) {
    throwIfCancelled(id);
    const out = step();
    if (out.type === "done") return out;
    onStep(out);
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEvents();
      sliceStart = performance.now();
    }
  }
}

function requireEngine() {
  if (!engine) throw workerError(WorkerError.noModel, "no model is loaded: send loadModel first");
  return engine;
}

function requireStore(key = DEFAULT_STORE) {
  const writer = stores.get(key);
  if (!writer) throw workerError(WorkerError.noStore, `no store '${key}' is set: send setStore first`);
  return writer;
}

async function generate(id, request, emit) {
  const generation = requireEngine().generate(request);
  const started = performance.now();
  let firstToken = null;
  try {
    const done = await runSteps(id, () => engine.step(generation), (out) => {
      if (out.text) {
        firstToken ??= performance.now() - started;
        emit(out);
      } else if (out.promptRead < out.promptTokens) {
        emit(out);
      }
    });
    return { ...done, timings: { firstTokenMs: firstToken, totalMs: performance.now() - started } };
  } finally {
    generation.free();
  }
}

async function warmup(id, { kinds, store }) {
  const writer = requireStore(store);
  let tokens = 0;
  let prompts = 0;
  for (const kind of kinds) {
    for (const prompt of writer.warmupPrompts(requireEngine(), kind)) {
      const generation = engine.warmup(prompt);
      try {
        const done = await runSteps(id, () => engine.step(generation), () => {});
        tokens += done.promptTokens;
        prompts += 1;
      } finally {
        generation.free();
      }
    }
  }
  return { prompts, tokens };
}

async function write(id, { store, model }, start, emit) {
  const writer = requireStore(store);
  if (model) await ensureModel(id, model, emit);
  throwIfCancelled(id);
  const task = start(writer, requireEngine());
  try {
    const done = await runSteps(id, () => task.step(engine), emit);
    return done.result;
  } finally {
    task.free();
  }
}

const handlers = {
  [Kind.version]: () => ({ version: wasm.version() }),
  [Kind.inspectModel]: ({ bytes }) => wasm.inspectModel(new Uint8Array(bytes)),
  [Kind.loadModel]: (payload, emit, id) => ensureModel(id, payload, emit),
  [Kind.unloadModel]: () => {
    const had = engine !== null;
    unload();
    return { unloaded: had };
  },
  [Kind.generate]: (payload, emit, id) => generate(id, payload, emit),
  [Kind.setStore]: ({ catalog, brand, default_language, store = DEFAULT_STORE }) => {
    const next = new wasm.Writer(default_language === undefined ? { catalog, brand } : { catalog, brand, default_language });
    stores.get(store)?.free();
    stores.set(store, next);
    return { warnings: next.warnings() };
  },
  [Kind.dropStore]: ({ store }) => {
    const writer = stores.get(store);
    writer?.free();
    return { dropped: stores.delete(store) };
  },
  [Kind.plan]: ({ request, store }) => requireStore(store).plan(request),
  [Kind.warmup]: (payload, _emit, id) => warmup(id, payload),
  [Kind.write]: (payload, emit, id) => write(id, payload, (w, e) => w.write(e, payload.request), emit),
  [Kind.rewrite]: (payload, emit, id) => write(id, payload, (w, e) => w.rewrite(e, payload.request), emit),
  [Kind.cancel]: ({ target }) => {
    if (!live.has(target)) return { cancelled: false };
    cancelled.add(target);
    return { cancelled: true };
  },
  [Kind.memory]: () => ({ wasmMemoryBytes: instance.memory.buffer.byteLength, heapBytes: wasm.heapBytes() }),
};
for (const kind of Object.values(Kind)) {
  if (!handlers[kind]) throw new Error(`worker.js: no handler for message kind '${kind}'`);
}
// Kinds that take turns; the others answer at once (a cancel must not wait).
const QUEUED = new Set([Kind.loadModel, Kind.unloadModel, Kind.generate, Kind.warmup, Kind.write, Kind.rewrite]);

// A trap leaves the instance in an unknown state (a Rust panic aborts
// mid-borrow): report it, then stop taking requests.
let trapped = null;
function onTrap(error) {
  trapped = { name: WorkerError.crashed, message: `the engine stopped: ${error.message}` };
  self.postMessage({ fatal: trapped });
  self.close();
}

const ready = loadBuild().then(
  (build) => {
    wasm = build.module;
    instance = build.exports;
    return null;
  },
  (e) => ({ name: WorkerError.wasmInit, message: `cannot load the wasm module: ${e?.message ?? e}` }),
);

self.onmessage = async ({ data: { id, kind, ...payload } }) => {
  const initError = (await ready) ?? trapped;
  if (initError) return self.postMessage({ id, ok: false, error: initError });
  const handler = Object.hasOwn(handlers, kind) ? handlers[kind] : null;
  if (!handler) {
    return self.postMessage({ id, ok: false, error: { name: WorkerError.unknownKind, message: `unknown message kind '${kind}'` } });
  }
  const emit = (event) => self.postMessage({ id, event });
  const run = async () => {
    if (trapped) return self.postMessage({ id, ok: false, error: trapped });
    try {
      if (QUEUED.has(kind)) {
        self.postMessage({ id, started: true });
        throwIfCancelled(id);
      }
      self.postMessage({ id, ok: true, value: await handler(payload, emit, id) });
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        self.postMessage({ id, ok: false, error: { name: WorkerError.crashed, message: `the engine stopped: ${e.message}` } });
        return onTrap(e);
      }
      self.postMessage({ id, ok: false, error: errorToWire(e) });
    } finally {
      live.delete(id);
      cancelled.delete(id);
    }
  };
  if (QUEUED.has(kind)) {
    live.add(id);
    queue = queue.then(run);
    await queue;
  } else {
    await run();
  }
};
