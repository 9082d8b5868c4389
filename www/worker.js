// Module worker owning the one wasm instance: all heavy work runs here, never
// on the page's thread. Answers each request of protocol.js by its id; long
// requests (loadModel, generate) post events first and run one at a time.
import { Kind, WorkerError, errorToWire } from "./protocol.js";

// The builds of pkg/ (scripts/build-wasm.sh), best first; each is picked only
// where this engine can run it. Numerics are identical across builds.
const BUILDS = [
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
      return { module, exports: await module.default() };
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
let writer = null;
// Ids of generate requests asked to stop; checked between steps.
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

async function loadModel({ url, expectedBytes }, emit) {
  const response = await fetch(url);
  if (!response.ok) throw workerError(WorkerError.download, `GET ${url}: HTTP ${response.status} ${response.statusText}`);
  const declared = Number(response.headers.get("Content-Length"));
  const total = Number.isSafeInteger(declared) && declared > 0 ? declared : expectedBytes;
  engine?.free();
  engine = null;
  const loader = new wasm.ModelLoader(total ?? undefined);
  try {
    const reader = response.body.getReader();
    let loaded = 0;
    emit({ type: "progress", loaded, total });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      loader.push(value);
      loaded += value.byteLength;
      emit({ type: "progress", loaded, total });
    }
    if (total !== undefined && loaded !== total) {
      throw workerError(WorkerError.download, `GET ${url}: body ended after ${loaded} of ${total} bytes`);
    }
    engine = loader.finish();
  } finally {
    loader.free();
  }
  return engine.info();
}

// Runs `step()` until it returns a `done` event, yielding to the event loop
// every SLICE_MS so a cancel message can arrive; `onStep` sees every other event.
async function runSteps(id, step, onStep) {
  let sliceStart = performance.now();
  for (;;) {
    if (cancelled.delete(id)) throw workerError(WorkerError.cancelled, "cancelled");
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

function requireWriter() {
  if (!writer) throw workerError(WorkerError.noStore, "no store is set: send setStore first");
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

async function warmup(id, kinds) {
  const w = requireWriter();
  let tokens = 0;
  for (const kind of kinds) {
    const generation = requireEngine().warmup(w.warmupPrompt(engine, kind));
    try {
      const done = await runSteps(id, () => engine.step(generation), () => {});
      tokens += done.promptTokens;
    } finally {
      generation.free();
    }
  }
  return { prompts: kinds.length, tokens };
}

async function write(id, start, emit) {
  const task = start(requireWriter(), requireEngine());
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
  [Kind.loadModel]: (payload, emit) => loadModel(payload, emit),
  [Kind.generate]: (payload, emit, id) => generate(id, payload, emit),
  [Kind.setStore]: ({ catalog, brand }) => {
    const next = new wasm.Writer({ catalog, brand });
    writer?.free();
    writer = next;
    return { warnings: writer.warnings() };
  },
  [Kind.plan]: ({ request }) => requireWriter().plan(request),
  [Kind.warmup]: ({ kinds }, _emit, id) => warmup(id, kinds),
  [Kind.write]: ({ request }, emit, id) => write(id, (w, e) => w.write(e, request), emit),
  [Kind.rewrite]: ({ request }, emit, id) => write(id, (w, e) => w.rewrite(e, request), emit),
  [Kind.cancel]: ({ target }) => {
    cancelled.add(target);
    return { cancelled: true };
  },
  [Kind.memory]: () => ({ wasmMemoryBytes: instance.memory.buffer.byteLength }),
};
for (const kind of Object.values(Kind)) {
  if (!handlers[kind]) throw new Error(`worker.js: no handler for message kind '${kind}'`);
}
// Kinds that take turns; the others answer at once (a cancel must not wait).
const QUEUED = new Set([Kind.loadModel, Kind.generate, Kind.warmup, Kind.write, Kind.rewrite]);

const ready = loadBuild().then(
  (build) => {
    wasm = build.module;
    instance = build.exports;
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
  const emit = (event) => self.postMessage({ id, event });
  const run = async () => {
    try {
      self.postMessage({ id, ok: true, value: await handler(payload, emit, id) });
    } catch (e) {
      self.postMessage({ id, ok: false, error: errorToWire(e) });
    }
  };
  if (QUEUED.has(kind)) {
    queue = queue.then(run);
    await queue;
  } else {
    await run();
  }
};
