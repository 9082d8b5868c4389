// Byte-accurate downloads: reads the response body stream into one buffer
// sized from Content-Length, reporting { loaded, total } in bytes after every
// chunk. A body that ends short of, or runs past, its declared length is an
// error, never a silently truncated model.

export const ErrorName = Object.freeze({ download: "download_failed" });

function fail(message) {
  const error = new Error(message);
  error.name = ErrorName.download;
  return error;
}

// Returns a Uint8Array whose buffer holds exactly the body (ready to transfer).
// `expectedBytes` (from www/models.json) is used only when the server sends no
// Content-Length, and then checked like it.
export async function downloadBytes(url, { expectedBytes, onProgress = () => {}, signal } = {}) {
  const response = await fetch(url, { signal });
  if (!response.ok) throw fail(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
  const declared = Number(response.headers.get("Content-Length"));
  const total = Number.isSafeInteger(declared) && declared > 0 ? declared : expectedBytes;
  if (!Number.isSafeInteger(total) || total <= 0) throw fail(`GET ${url}: no Content-Length and no expected size`);
  const bytes = new Uint8Array(total);
  let loaded = 0;
  onProgress({ loaded, total });
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > total) {
      await reader.cancel();
      throw fail(`GET ${url}: body runs past the declared ${total} bytes`);
    }
    bytes.set(value, loaded);
    loaded += value.byteLength;
    onProgress({ loaded, total });
  }
  if (loaded !== total) throw fail(`GET ${url}: body ended after ${loaded} of ${total} bytes`);
  return bytes;
}
