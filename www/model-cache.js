// Model files on the device: streamed into the engine from the Cache API when
// a verified copy is there, else from the network (and stored once verified).
// Invariants: every byte the engine gets is hashed as it streams in
// (ModelLoader.sha256, no second pass); an entry is put in the cache only
// after its SHA-256 matched, so an interrupted or corrupt download never
// poisons it; a cached entry that fails its check is deleted and the model is
// fetched again; when storage is refused (quota, private mode) the model runs
// from memory. Used by the worker; the page only asks isCached().

export const CACHE_NAME = "banneret-models-v1";
// What the cache entry was verified against, recorded when it was stored.
const DIGEST_HEADER = "X-Banneret-SHA256";
const BYTES_HEADER = "X-Banneret-Bytes";
// Progress events at most this often (the last one always goes out).
const PROGRESS_EVERY_MS = 16;

export const ModelErrorName = Object.freeze({
  download: "download_failed",
  integrity: "model_integrity",
  cancelled: "cancelled",
});

function fail(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

// { url, sha256?, bytes? } with the URL made absolute and the digest lower case.
export function modelKey({ url, sha256, bytes }, base) {
  if (typeof url !== "string" || url === "") throw fail("invalid_request", "model.url: a URL string is required");
  if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw fail("invalid_request", `model.sha256: 64 hex digits expected, got ${JSON.stringify(String(sha256)).slice(0, 80)}`);
  }
  if (bytes !== undefined && !(Number.isSafeInteger(bytes) && bytes > 0)) {
    throw fail("invalid_request", `model.bytes: a positive integer expected, got ${bytes}`);
  }
  return { url: new URL(url, base).href, sha256: sha256?.toLowerCase(), bytes };
}

async function openCache() {
  try {
    return globalThis.caches ? await caches.open(CACHE_NAME) : null;
  } catch {
    return null; // opaque origins, some private modes, storage disabled by policy
  }
}

// The cached response for this model when it was verified against the same
// digest (or any digest when none is expected); null otherwise.
async function cachedEntry(cache, { url, sha256 }) {
  const hit = await cache.match(url).catch(() => null);
  if (!hit) return { hit: null, stale: false };
  const recorded = hit.headers.get(DIGEST_HEADER);
  if (!recorded || (sha256 && recorded !== sha256)) return { hit: null, stale: true };
  return { hit, stale: false };
}

// Whether a verified copy of the model is on this device (no bytes are read).
export async function isCached(model) {
  const cache = await openCache();
  if (!cache) return false;
  return (await cachedEntry(cache, model)).hit !== null;
}

export async function deleteCached({ url }) {
  const cache = await openCache();
  return cache ? cache.delete(url).catch(() => false) : false;
}

// Streams one response body into a fresh ModelLoader and returns the engine.
// `keep` (an array) collects the chunks for the cache.
async function stream(ModelLoader, response, { total, expected, source, keep, emit, cancelled }) {
  const loader = new ModelLoader(total);
  try {
    const reader = response.body.getReader();
    let loaded = 0;
    let lastEmit = -Infinity;
    const progress = (force) => {
      const now = performance.now();
      if (force || now - lastEmit >= PROGRESS_EVERY_MS) {
        lastEmit = now;
        emit({ type: "progress", loaded, total, source });
      }
    };
    progress(true);
    for (;;) {
      if (cancelled()) {
        await reader.cancel().catch(() => {});
        throw fail(ModelErrorName.cancelled, "cancelled");
      }
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw fail(ModelErrorName.download, `${response.url || source}: the body broke off after ${loaded} bytes (${e?.message ?? e})`);
      }
      const { done, value } = chunk;
      if (done) break;
      loader.push(value);
      keep?.push(value);
      loaded += value.byteLength;
      progress(loaded === total);
    }
    if (total !== undefined && loaded !== total) {
      throw fail(ModelErrorName.download, `${response.url || "model"}: body ended after ${loaded} of ${total} bytes`);
    }
    progress(true);
    const digest = loader.sha256();
    if (expected && digest !== expected) {
      throw fail(ModelErrorName.integrity, `${response.url || "model"}: SHA-256 is ${digest}, expected ${expected}`);
    }
    return { engine: loader.finish(), digest, loaded };
  } finally {
    loader.free();
  }
}

// The size the server declares, unless the body is content-encoded (then the
// header counts compressed bytes).
function declaredBytes(response) {
  if (response.headers.get("Content-Encoding")) return undefined;
  const n = Number(response.headers.get("Content-Length"));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

async function store(cache, { url }, chunks, digest, size) {
  if (!cache) return { status: "unavailable", reason: "the Cache API is not available here" };
  try {
    const estimate = await navigator.storage?.estimate?.();
    if (estimate?.quota !== undefined && estimate.quota - (estimate.usage ?? 0) < size) {
      return { status: "not-stored", reason: `QuotaExceededError: ${estimate.quota - (estimate.usage ?? 0)} bytes free, ${size} needed` };
    }
    const blob = new Blob(chunks, { type: "application/octet-stream" });
    chunks.length = 0;
    await cache.put(url, new Response(blob, {
      headers: { "Content-Type": "application/octet-stream", [DIGEST_HEADER]: digest, [BYTES_HEADER]: String(size) },
    }));
    return { status: "stored" };
  } catch (e) {
    await cache.delete(url).catch(() => {});
    return { status: "not-stored", reason: `${e?.name ?? "Error"}: ${e?.message ?? e}` };
  }
}

// Loads `model` ({ url, sha256?, bytes?, cache? }) into a new engine.
// `emit` gets { type: "progress", loaded, total, source: "cache" | "network" };
// `cancelled()` is polled between chunks. Returns { engine, source, sha256,
// cache: { status: "off" | "hit" | "stored" | "not-stored" | "unavailable", reason?, discarded? } }
// where `discarded` says why a cached entry was thrown away ("stale", or the error).
export async function loadModel(ModelLoader, model, { emit = () => {}, cancelled = () => false } = {}) {
  const { url, sha256, bytes } = model;
  const useCache = model.cache === true;
  const cache = useCache ? await openCache() : null;
  let discarded;
  if (cache) {
    const { hit, stale } = await cachedEntry(cache, model);
    if (stale) {
      discarded = "stale";
      await cache.delete(url).catch(() => {});
    }
    if (hit) {
      const recorded = hit.headers.get(DIGEST_HEADER);
      const size = Number(hit.headers.get(BYTES_HEADER));
      try {
        const total = Number.isSafeInteger(size) && size > 0 ? size : undefined;
        const { engine, digest } = await stream(ModelLoader, hit, { total, expected: sha256 ?? recorded, source: "cache", emit, cancelled });
        return { engine, source: "cache", sha256: digest, cache: { status: "hit" } };
      } catch (e) {
        if (e?.name === ModelErrorName.cancelled) throw e;
        discarded = `${e?.name ?? "Error"}: ${e?.message ?? e}`;
        await cache.delete(url).catch(() => {});
      }
    }
  }

  const response = await fetch(url, useCache ? { cache: "no-store" } : {}).catch((e) => {
    throw fail(ModelErrorName.download, `GET ${url}: ${e?.message ?? e}`);
  });
  if (!response.ok) throw fail(ModelErrorName.download, `GET ${url}: HTTP ${response.status} ${response.statusText}`);
  const declared = declaredBytes(response);
  if (declared !== undefined && bytes !== undefined && declared !== bytes) {
    await response.body?.cancel().catch(() => {});
    throw fail(ModelErrorName.download, `GET ${url}: the server sends ${declared} bytes, the model list says ${bytes}`);
  }
  const chunks = cache ? [] : undefined;
  const { engine, digest, loaded } = await stream(ModelLoader, response, {
    total: declared ?? bytes, expected: sha256, source: "network", keep: chunks, emit, cancelled,
  });
  const stored = useCache ? await store(cache, model, chunks, digest, loaded) : { status: "off" };
  return { engine, source: "network", sha256: digest, cache: discarded ? { ...stored, discarded } : stored };
}
