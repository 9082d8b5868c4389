// The page-side API, shaped like Chrome's Writer API: Banneret.availability(),
// Banneret.create({ model | models, defaultLanguage, catalog, brand, monitor,
// signal }) → a writer with
// write / writeStreaming / rewrite / rewriteStreaming / plan / destroy.
// Invariants: one worker per page (every writer shares it through its request
// queue); an aborted signal rejects with its reason (an AbortError) at once and
// cancels the worker's job, and the next call works; a writer that finds a new
// worker (the old one crashed) sets its store again and lets the worker reload
// the model (from the device cache) before its request; a request that was
// still queued when the worker died is sent once more. Nothing here touches
// the DOM: copy is returned as data.
import { WorkerClient, Kind } from "./client.js";
import { WorkerError } from "./protocol.js";
import { banneretError, fromWorker, abortError } from "./errors.js";
import { isCached, deleteCached, modelKey } from "./model-cache.js";

let workerUrl = new URL("./worker.js", import.meta.url);
let client = null;
const shared = () => (client ??= new WorkerClient(workerUrl));

// URLs of models a create() of this page is loading (for availability()).
const loading = new Map();
const track = (map, key, delta) => {
  const n = (map.get(key) ?? 0) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
};
// Live writers per model URL: the model is unloaded when none is left.
const writersPerModel = new Map();

// (module (func (result v128) (i8x16.splat (i32.const 0))))
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11);

function browserSupport() {
  if (typeof Worker !== "function") return "no Web Workers";
  if (typeof WebAssembly !== "object") return "no WebAssembly";
  try {
    if (!WebAssembly.validate(SIMD_PROBE)) return "no WebAssembly SIMD";
  } catch {
    return "no WebAssembly SIMD";
  }
  return null;
}

// Fields a request may take from the writer's defaults.
const WRITE_DEFAULTS = ["kind", "goal", "tone", "locale", "date", "profile", "num_return_sequences", "seed", "max_retries", "options"];
const REWRITE_DEFAULTS = ["kind", "locale", "num_return_sequences", "seed", "max_retries", "options"];
const CREATE_OPTIONS = new Set(["model", "models", "defaultLanguage", "catalog", "brand", "monitor", "signal", "cache", ...WRITE_DEFAULTS]);

const invalid = (field, reason) => banneretError("invalid_request", `invalid request field '${field}': ${reason}`);

// `models` as a map from language tags to a model, { en: url, "*": url },
// as the list form: one entry per model, with the tags that name it.
function fromLanguageMap(map) {
  const byUrl = new Map();
  for (const [tag, m] of Object.entries(map)) {
    const d = typeof m === "string" ? { url: m } : m;
    if (!d || typeof d !== "object" || typeof d.url !== "string") throw invalid(`models.${tag}`, "a URL string or { url, sha256?, bytes? }");
    const entry = byUrl.get(d.url) ?? { ...d, locales: [] };
    entry.locales.push(tag);
    byUrl.set(d.url, entry);
  }
  return [...byUrl.values()];
}

// [{ url, sha256?, bytes?, locales? }] from `model` (a URL or one descriptor)
// or `models`: a map { "en": model, "zh-TW": model, "*": model } from
// language tags to models, or a list of descriptors, each serving the
// locales it lists ("*" = any).
function modelList(model, models) {
  if ((model === undefined) === (models === undefined)) throw invalid("model", "give exactly one of `model` or `models`");
  const map = models && typeof models === "object" && !Array.isArray(models);
  const list = models === undefined ? [typeof model === "string" ? { url: model } : model] : map ? fromLanguageMap(models) : models;
  if (!Array.isArray(list) || list.length === 0) throw invalid("models", "a non-empty list of model descriptors");
  return list.map((m, i) => {
    const where = models === undefined ? "model" : `models[${i}]`;
    if (!m || typeof m !== "object") throw invalid(where, "a URL string or { url, sha256?, bytes?, locales? }");
    try {
      const key = modelKey(m, document.baseURI);
      const locales = m.locales === undefined ? ["*"] : m.locales;
      if (!Array.isArray(locales) || !locales.every((l) => typeof l === "string" && l)) {
        throw invalid(`${where}.locales`, 'a list of language tags such as ["en", "de-DE"] or "*"');
      }
      return { ...key, locales: locales.map((l) => l.toLowerCase()) };
    } catch (e) {
      if (e.code) throw e;
      throw invalid(where, e.message);
    }
  });
}

// The model that serves `locale`: an exact tag, then the same language, then
// "*", then the site's default language's, then the first. (A site maps e.g.
// English to one model and everything else to a multilingual one; a page
// downloads only the model it uses.) A language the chosen model cannot
// write gets copy in the default language, and the result's warnings say so.
export function pickModel(models, locale, defaultLanguage = "en") {
  const tag = String(locale ?? "").toLowerCase();
  const lang = tag.split("-")[0];
  const has = (test) => models.find((m) => m.locales.some(test));
  const fallback = String(defaultLanguage).toLowerCase().split("-")[0];
  return (
    (tag && has((l) => l === tag)) ||
    (lang && has((l) => l === lang)) ||
    (lang && has((l) => l.split("-")[0] === lang)) ||
    has((l) => l === "*") ||
    has((l) => l.split("-")[0] === fallback) ||
    models[0]
  );
}

const LANGUAGE_TAG = /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i;

function pageLocale() {
  return document.documentElement.lang || navigator.language || "en";
}

// A profile given as an object, a function returning one, or a collector
// with get() (profile.js); null/undefined mean none.
function resolveProfile(source) {
  const value = typeof source === "function" ? source() : typeof source?.get === "function" ? source.get() : source;
  return value ?? undefined;
}

const TOKEN = Symbol("banneret.create");
let nextStore = 1;

export class Banneret {
  #store = `writer-${nextStore++}`;
  #storeGeneration = -1;
  #catalog;
  #brand;
  #models;
  #defaultLanguage;
  #locale;
  #cache;
  #defaults;
  #monitor;
  #life = new AbortController();
  #modelUrl = null;
  #info = null;
  #warnings = [];

  // Use Banneret.create().
  constructor(token, options) {
    if (token !== TOKEN) throw new TypeError("Illegal constructor: use Banneret.create()");
    ({ catalog: this.#catalog, brand: this.#brand, models: this.#models, defaultLanguage: this.#defaultLanguage, locale: this.#locale, cache: this.#cache, defaults: this.#defaults, monitor: this.#monitor } = options);
  }

  // "unavailable" (this browser cannot run it), "downloadable", "downloading"
  // (a create() on this page is fetching it) or "available" (in memory or in
  // the device cache). Reads no model bytes.
  static async availability({ model, models, locale, defaultLanguage } = {}) {
    if (browserSupport()) return "unavailable";
    if (model === undefined && models === undefined) return "downloadable";
    const chosen = pickModel(modelList(model, models), locale ?? pageLocale(), defaultLanguage);
    if (writersPerModel.has(chosen.url) || (await isCached(chosen))) return "available";
    return loading.has(chosen.url) ? "downloading" : "downloadable";
  }

  // Downloads (or reads from the device cache) the model for `locale`, sets
  // the store, and resolves to a writer. See banneret.d.ts for the options.
  static async create(options = {}) {
    const { model, models, defaultLanguage = "en", catalog, brand, monitor, signal, cache = true, ...defaults } = options;
    for (const key of Object.keys(options)) if (!CREATE_OPTIONS.has(key)) throw invalid(key, "not an option of Banneret.create");
    signal?.throwIfAborted();
    const unsupported = browserSupport();
    if (unsupported) throw banneretError("unsupported_browser", `banneret cannot run in this browser: ${unsupported}`);
    if (!catalog || typeof catalog !== "object") throw invalid("catalog", "an object in the catalog format");
    if (!brand || typeof brand !== "object") throw invalid("brand", "an object in the brand format");
    if (monitor !== undefined && typeof monitor !== "function") throw invalid("monitor", "a function called with an EventTarget");
    if (typeof defaultLanguage !== "string" || !LANGUAGE_TAG.test(defaultLanguage)) throw invalid("defaultLanguage", 'a language tag such as "en" or "de-DE"');
    const list = modelList(model, models);
    const target = new EventTarget();
    monitor?.(target);
    const writer = new Banneret(TOKEN, { catalog, brand, models: list, defaultLanguage, locale: defaults.locale ?? pageLocale(), cache: cache !== false, defaults, monitor: target });
    try {
      await writer.#start(signal);
    } catch (e) {
      writer.destroy();
      throw e;
    }
    return writer;
  }

  // Removes a model from the device cache (it is fetched again when next needed).
  static async deleteModel(model) {
    return deleteCached(modelKey(typeof model === "string" ? { url: model } : model, document.baseURI));
  }

  // Where the worker script is, when a bundler or CDN moved it; call before
  // the first create().
  static configure({ workerUrl: url } = {}) {
    if (client) throw banneretError("configured_too_late", "Banneret.configure must come before the first create()");
    if (url !== undefined) workerUrl = new URL(url, document.baseURI);
  }

  // The loaded model: { architecture, name, context_length, ..., url, sha256,
  // source: "network" | "cache" | "memory", cache: { status, ... } }.
  get model() {
    return this.#info;
  }

  // What cleaning the catalog and brand changed: [{ field, message }].
  get warnings() {
    return this.#warnings;
  }

  get destroyed() {
    return this.#life.signal.aborted;
  }

  async #start(signal) {
    const model = pickModel(this.#models, this.#locale, this.#defaultLanguage);
    track(loading, model.url, +1);
    try {
      await this.#ensureStore(signal);
      this.#info = await this.#call(Kind.loadModel, this.#descriptor(model), { signal });
    } finally {
      track(loading, model.url, -1);
    }
    this.#modelUrl = model.url;
    track(writersPerModel, model.url, +1);
    this.#warmup();
  }

  // Reads the visitor-independent beginnings of this writer's prompts (its
  // default kind's: the system turn and the worked example up to its angle,
  // for the two products the example can show) into the engine's prompt
  // cache, so the first write reads only its visitor's tail. Queued behind create's own requests and ahead of
  // any write; not awaited: create resolves as soon as the model is ready,
  // and a failed or cancelled warm-up only makes the first write slower.
  #warmup() {
    const kinds = [this.#defaults.kind ?? "banner"];
    this.#call(Kind.warmup, { kinds, store: this.#store }).catch(() => {});
  }

  // Sets the store in the current worker unless it already has it.
  async #ensureStore(signal) {
    const generation = shared().generation;
    if (this.#storeGeneration === generation) return;
    const { warnings } = await this.#call(Kind.setStore, { store: this.#store, catalog: this.#catalog, brand: this.#brand, default_language: this.#defaultLanguage }, { signal });
    this.#warnings = warnings;
    this.#storeGeneration = generation;
  }

  #progress({ loaded, total, source }) {
    const event = new ProgressEvent("downloadprogress", { loaded, total: total ?? 0, lengthComputable: total !== undefined });
    Object.defineProperty(event, "source", { value: source, enumerable: true });
    this.#monitor.dispatchEvent(event);
  }

  // One worker request: progress events go to the monitor, others to
  // `onEvent`; the signal (and destroy()) cancel it.
  async #call(kind, payload, { signal, onEvent = () => {} } = {}) {
    const life = this.#life.signal;
    const stop = signal ? AbortSignal.any([signal, life]) : life;
    if (stop.aborted) throw abortError(stop);
    const c = shared();
    const job = c.start(kind, payload, { onEvent: (e) => (e.type === "progress" ? this.#progress(e) : onEvent(e)) });
    job.done.catch(() => {}); // answered after an abort: nobody waits for it
    let onAbort;
    const aborted = new Promise((_, reject) => {
      onAbort = () => {
        c.request(Kind.cancel, { target: job.id }).catch(() => {});
        reject(abortError(stop));
      };
      stop.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([job.done, aborted]);
    } catch (e) {
      if (stop.aborted) throw abortError(stop);
      throw e instanceof DOMException ? e : fromWorker(e);
    } finally {
      stop.removeEventListener("abort", onAbort);
    }
  }

  // A write or rewrite: the store is (re)set when the worker is new, the model
  // for the request's locale travels with it, and a request that never started
  // because the worker died is sent once more.
  async #run(kind, request, { signal, onEvent }) {
    const locale = request.locale ?? request.profile?.locale ?? this.#locale;
    const model = pickModel(this.#models, locale, this.#defaultLanguage);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#ensureStore(signal);
        const result = await this.#call(kind, { request, store: this.#store, model: this.#descriptor(model) }, { signal, onEvent });
        if (model.url !== this.#modelUrl) this.#switchModel(model.url);
        return result;
      } catch (e) {
        const lost = (e.code === WorkerError.crashed && e.requestStarted === false) || e.code === WorkerError.noStore;
        if (attempt > 0 || !lost) throw e;
      }
    }
  }

  #descriptor({ url, sha256, bytes }) {
    return { url, sha256, bytes, cache: this.#cache };
  }

  #switchModel(url) {
    if (this.#modelUrl) track(writersPerModel, this.#modelUrl, -1);
    this.#modelUrl = url;
    track(writersPerModel, url, +1);
  }

  #request(input, fields) {
    if (this.destroyed) throw banneretError("destroyed", "this writer was destroyed");
    const given = typeof input === "string" ? { goal: input } : input;
    if (!given || typeof given !== "object" || Array.isArray(given)) throw invalid("request", "an object (or a goal string)");
    const request = {};
    for (const key of fields) if (this.#defaults[key] !== undefined) request[key] = this.#defaults[key];
    Object.assign(request, given);
    request.kind ??= "banner";
    if ("profile" in request) {
      const profile = resolveProfile(request.profile);
      if (profile === undefined) delete request.profile;
      else request.profile = profile;
    }
    return request;
  }

  // Resolves to the write result { copy, source, personalized, language, plan,
  // checks, alternatives, rejected, seed, attempts, timings_ms, warnings }.
  async write(request, { signal } = {}) {
    return this.#run(Kind.write, this.#request(request, WRITE_DEFAULTS), { signal });
  }

  // A ReadableStream (async-iterable) of { type: "attempt" }, { type: "preview",
  // attempt, variant, text, draft } (raw, unchecked model text: a preview at
  // most, never copy) and finally { type: "result", result }.
  writeStreaming(request, { signal } = {}) {
    return this.#stream(Kind.write, () => this.#request(request, WRITE_DEFAULTS), signal);
  }

  // { kind, copy: { field: text }, operation: "shorter" | "longer" | "more-formal" | "more-casual" }.
  async rewrite(request, { signal } = {}) {
    return this.#run(Kind.rewrite, this.#request(request, REWRITE_DEFAULTS), { signal });
  }

  rewriteStreaming(request, { signal } = {}) {
    return this.#stream(Kind.rewrite, () => this.#request(request, REWRITE_DEFAULTS), signal);
  }

  // Ideation only, no model: { plan, warnings } (what would be featured, and why).
  async plan(request) {
    const r = this.#request(request, WRITE_DEFAULTS);
    await this.#ensureStore();
    return this.#call(Kind.plan, { request: r, store: this.#store });
  }

  // Cancels what this writer is doing (AbortError) and frees its store; the
  // model stays loaded while another writer uses it.
  destroy() {
    if (this.destroyed) return;
    this.#life.abort(new DOMException("The writer was destroyed.", "AbortError"));
    if (!client) return;
    client.request(Kind.dropStore, { store: this.#store }).catch(() => {});
    if (this.#modelUrl) {
      track(writersPerModel, this.#modelUrl, -1);
      if (!writersPerModel.has(this.#modelUrl)) client.request(Kind.unloadModel).catch(() => {});
    }
  }

  #stream(kind, makeRequest, signal) {
    const inner = new AbortController();
    const stop = signal ? AbortSignal.any([signal, inner.signal]) : inner.signal;
    const drafts = new Map();
    let open = true;
    const enqueue = (controller, chunk) => open && controller.enqueue(chunk);
    return new ReadableStream({
      start: (controller) => {
        const onEvent = (e) => {
          if (e.type === "attempt") enqueue(controller, { type: "attempt", attempt: e.attempt, variants: e.variants, seed: e.seed });
          else if (e.type === "token" && e.text) {
            const key = `${e.attempt}/${e.variant}`;
            const draft = (drafts.get(key) ?? "") + e.text;
            drafts.set(key, draft);
            enqueue(controller, { type: "preview", attempt: e.attempt, variant: e.variant, text: e.text, draft });
          }
        };
        // Sent now, not a tick later: requests keep the order they were made in.
        let running;
        try {
          running = this.#run(kind, makeRequest(), { signal: stop, onEvent });
        } catch (e) {
          running = Promise.reject(e);
        }
        running.then(
            (result) => {
              enqueue(controller, { type: "result", result });
              if (open) controller.close();
              open = false;
            },
            (error) => {
              if (open) controller.error(error);
              open = false;
            },
          );
      },
      cancel: (reason) => {
        open = false;
        inner.abort(reason ?? new DOMException("The stream was cancelled.", "AbortError"));
      },
    });
  }
}
