// The model cache on the device (www/model-cache.js) with the real model in
// headless Chromium: a verified entry is used without any network request; a
// corrupt or partial entry is detected by its SHA-256 or size, thrown away
// and fetched again; a download cut in the middle leaves nothing in the
// cache and the next load recovers; a quota too small to hold the model
// leaves it working from memory. Each page has its own worker, so each
// create() below really loads the model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath, defaultModel } from "./lib/paths.mjs";
import { blankPage } from "./lib/pages.mjs";

const T = 240_000;
const MODEL = modelPath();
const SIZE = statSync(MODEL).size;
let server, browser, cut;

// Sends the model with its full Content-Length, then drops the connection
// after CUT_AT bytes.
const CUT_AT = 20_000_000;
function startCutServer() {
  const s = createServer((req, res) => {
    res.writeHead(200, { "Content-Length": SIZE, "Content-Type": "application/octet-stream" });
    let sent = 0;
    const file = createReadStream(MODEL);
    file.on("data", (chunk) => {
      sent += chunk.length;
      res.write(chunk);
      if (sent > CUT_AT) {
        file.destroy();
        res.socket.destroy();
      }
    });
  });
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve(s)));
}

before(async () => {
  server = await startServer({ modelFile: MODEL });
  browser = await launchChromium();
  cut = await startCutServer();
});
after(async () => {
  await browser?.close();
  await server?.close();
  cut?.close();
});

// A new page (and so a new worker) in `context`; `modelRequests` lists its
// requests for the model.
async function open(context) {
  const { page, problems } = await blankPage(context, server);
  const modelRequests = [];
  page.on("request", (r) => r.url().includes("/models/") && modelRequests.push(r.url()));
  return { page, problems, modelRequests };
}

// create() in the page: { ok, info | error, availability (before) }.
function create(page, { write = false } = {}) {
  return page.evaluate(async (write) => {
    const { Banneret } = await import("/banneret.js");
    const h = await import("/__test/helpers.js");
    const model = await h.defaultModel();
    const availability = await Banneret.availability({ model });
    const created = await h.settle(Banneret.create({ model, ...(await h.store()) }));
    if (!created.ok) return { ...created, availability };
    const writer = created.value;
    const out = { ok: true, info: writer.model, availability };
    if (write) out.subject = (await writer.write({ kind: "email_subject", num_return_sequences: 1, max_retries: 0 })).copy.subject;
    writer.destroy();
    return out;
  }, write);
}

// Rewrites the cached model entry: "corrupt" flips one byte in the middle,
// "partial" keeps only the first half (same headers either way).
function damageCache(page, how) {
  return page.evaluate(async (how) => {
    const h = await import("/__test/helpers.js");
    const { url } = await h.defaultModel();
    const absolute = new URL(url, location.href).href;
    const cache = await caches.open("banneret-models-v1");
    const entry = await cache.match(absolute);
    const bytes = new Uint8Array(await entry.arrayBuffer());
    const damaged = how === "corrupt" ? bytes : bytes.slice(0, bytes.length >> 1);
    if (how === "corrupt") damaged[damaged.length >> 1] ^= 0xff;
    await cache.put(absolute, new Response(damaged, { headers: entry.headers }));
    return damaged.length;
  }, how);
}

const cacheKeys = (page) => page.evaluate(async () => (await (await caches.open("banneret-models-v1")).keys()).map((r) => r.url));

test("a cached model loads with no request; a corrupt or partial entry is fetched again", { timeout: T }, async () => {
  const context = await browser.newContext();
  const first = await open(context);
  const stored = await create(first.page);
  assert.equal(stored.ok, true, JSON.stringify(stored));
  assert.equal(stored.availability, "downloadable");
  assert.deepEqual([stored.info.source, stored.info.cache.status], ["network", "stored"]);
  assert.equal(first.modelRequests.length, 1);

  const second = await open(context);
  const hit = await create(second.page);
  assert.equal(hit.availability, "available");
  assert.deepEqual([hit.info.source, hit.info.cache.status], ["cache", "hit"]);
  assert.equal(hit.info.sha256, defaultModel.sha256);
  assert.deepEqual(second.modelRequests, [], "no model request when the cache has it");

  assert.equal(await damageCache(second.page, "corrupt"), SIZE);
  const third = await open(context);
  const refetched = await create(third.page);
  assert.deepEqual([refetched.info.source, refetched.info.cache.status], ["network", "stored"], JSON.stringify(refetched.info.cache));
  assert.match(refetched.info.cache.discarded, /^model_integrity: .*SHA-256 is [0-9a-f]{64}, expected b179c952/);
  assert.equal(third.modelRequests.length, 1);

  assert.equal(await damageCache(third.page, "partial"), SIZE >> 1);
  const fourth = await open(context);
  const again = await create(fourth.page);
  assert.deepEqual([again.info.source, again.info.cache.status], ["network", "stored"]);
  assert.match(again.info.cache.discarded, /^download_failed: .*body ended after 49181216 of 98362432 bytes/);

  const fifth = await open(context);
  const healed = await create(fifth.page, { write: true });
  assert.deepEqual([healed.info.source, healed.info.cache.status], ["cache", "hit"]);
  assert.match(healed.subject, /\S/);
  assert.deepEqual(fifth.modelRequests, []);
  for (const { problems } of [first, second, third, fourth, fifth]) assert.deepEqual(problems, []);
  await context.close();
});

test("a download cut in the middle leaves the cache empty and the next load recovers", { timeout: T }, async () => {
  const context = await browser.newContext();
  const { page, problems } = await open(context);
  const cutUrl = `http://127.0.0.1:${cut.address().port}/model.gguf`;
  await page.route("**/models/**", (route) => route.continue({ url: cutUrl }));
  const broken = await create(page);
  assert.equal(broken.ok, false);
  assert.equal(broken.error.name, "NetworkError");
  assert.equal(broken.error.code, "download_failed");
  assert.match(broken.error.message, /broke off after \d+ bytes/);
  assert.deepEqual(await cacheKeys(page), [], "nothing half-downloaded was cached");
  await page.unroute("**/models/**");
  const recovered = await create(page, { write: true });
  assert.equal(recovered.availability, "downloadable");
  assert.deepEqual([recovered.info.source, recovered.info.cache.status], ["network", "stored"]);
  assert.match(recovered.subject, /\S/);
  assert.equal((await cacheKeys(page)).length, 1);
  // The cut shows up as a failed request; nothing else may go wrong.
  assert.deepEqual(problems.filter((p) => !p.includes(cutUrl) && !p.includes("/models/")), []);
  await context.close();
});

test("when storage is refused (quota too small) the model works from memory", { timeout: T }, async () => {
  const context = await browser.newContext();
  const { page, problems, modelRequests } = await open(context);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: new URL(server.url).origin, quotaSize: 5_000_000 });
  const fromMemory = await create(page, { write: true });
  assert.equal(fromMemory.ok, true, JSON.stringify(fromMemory));
  assert.equal(fromMemory.info.source, "network");
  assert.equal(fromMemory.info.cache.status, "not-stored");
  assert.match(fromMemory.info.cache.reason, /QuotaExceeded/);
  assert.match(fromMemory.subject, /\S/);
  assert.deepEqual(await cacheKeys(page), []);
  const later = await open(context);
  const again = await create(later.page);
  assert.equal(again.availability, "downloadable");
  assert.equal(again.info.source, "network", "not cached, so fetched again");
  assert.equal(modelRequests.length + later.modelRequests.length, 2);
  assert.deepEqual(problems, []);
  await context.close();
});
