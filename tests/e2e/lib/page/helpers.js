// Page-side helpers for the end-to-end tests (served under /__test/ by
// lib/pages.mjs): fixtures, the default model's descriptor, and errors
// flattened to plain data for page.evaluate.
export async function json(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return response.json();
}

export async function store(name = "northwind") {
  const [catalog, brand] = await Promise.all([json(`/stores/${name}/catalog.json`), json(`/stores/${name}/brand.json`)]);
  return { catalog, brand };
}

export const profile = (id, name = "northwind") => json(`/stores/${name}/profiles/${id}.json`);

export async function defaultModel() {
  const manifest = await json("/models.json");
  const entry = manifest.models.find((m) => m.file === manifest.default);
  return { url: `/models/${encodeURIComponent(entry.file)}`, sha256: entry.sha256, bytes: entry.bytes };
}

export function describeError(e) {
  return {
    name: e?.name,
    code: e?.code,
    message: String(e?.message ?? e),
    domException: e instanceof DOMException,
    typeError: e instanceof TypeError,
    error: e instanceof Error,
  };
}

// Settles `promise`: { ok: true, value } or { ok: false, error: describeError }.
export async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}
