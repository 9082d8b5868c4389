// The JS API (www/banneret.js) with the real model in headless Chromium, under
// the server's CSP: availability, create with byte progress, write,
// writeStreaming, rewrite and plan; AbortSignal at every stage (queued,
// streaming, during the download) rejects with an AbortError and the next
// call works; errors carry their table names; writers share one worker; and
// a worker killed mid-generation is replaced without the page noticing more
// than one failed request.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath, defaultModel } from "./lib/paths.mjs";
import { blankPage, cspViolations } from "./lib/pages.mjs";

// Generous: a write takes seconds on a busy 2-core machine.
const T = 240_000;
const MODEL = modelPath();
let server, browser, context, page, problems;

before(async () => {
  server = await startServer({ modelFile: MODEL });
  browser = await launchChromium();
  context = await browser.newContext();
  ({ page, problems } = await blankPage(context, server));
});
after(async () => {
  await browser?.close();
  await server?.close();
});

// Runs `body(env)` in the page with env = { Banneret, h (helpers), model,
// catalog, brand, writers (kept between tests) }. Sent as an expression:
// the page's CSP rules out new Function().
function inPage(body, arg = null) {
  return page.evaluate(`(async () => {
    const { Banneret } = await import("/banneret.js");
    const h = await import("/__test/helpers.js");
    const model = await h.defaultModel();
    const { catalog, brand } = await h.store();
    window.__writers ??= {};
    return (${body.toString()})({ Banneret, h, model, catalog, brand, writers: window.__writers }, ${JSON.stringify(arg)});
  })()`);
}

test("availability, create with byte progress, then a checked write", { timeout: T }, async () => {
  const out = await inPage(async ({ Banneret, h, model, catalog, brand, writers }) => {
    const before = [await Banneret.availability(), await Banneret.availability({ model })];
    const progress = [];
    const creating = Banneret.create({
      model, catalog, brand,
      kind: "email_subject", num_return_sequences: 1, max_retries: 0,
      monitor(m) {
        m.addEventListener("downloadprogress", (e) => progress.push({ loaded: e.loaded, total: e.total, source: e.source, type: e.type, isProgress: e instanceof ProgressEvent }));
      },
    });
    await new Promise((r) => setTimeout(r, 0));
    const during = await Banneret.availability({ model });
    const writer = await creating;
    writers.main = writer;
    const after = await Banneret.availability({ model });
    const profile = await h.profile("cart-abandoner");
    const banner = await writer.write({ kind: "banner", goal: "winter sale", profile, num_return_sequences: 2 });
    const subject = await writer.write("newsletter sign-up");
    return { before, during, after, progress, info: writer.model, warnings: writer.warnings, banner, subject };
  });
  assert.deepEqual(out.before, ["downloadable", "downloadable"]);
  assert.equal(out.during, "downloading");
  assert.equal(out.after, "available");
  const bytes = defaultModel.bytes;
  assert.ok(out.progress.length > 2, `only ${out.progress.length} progress events`);
  assert.deepEqual(out.progress[0], { loaded: 0, total: bytes, source: "network", type: "downloadprogress", isProgress: true });
  assert.equal(out.progress.at(-1).loaded, bytes);
  for (let i = 1; i < out.progress.length; i++) assert.ok(out.progress[i].loaded >= out.progress[i - 1].loaded, `progress went back at ${i}`);
  assert.equal(out.info.source, "network");
  assert.deepEqual(out.info.cache, { status: "stored" });
  assert.equal(out.info.sha256, defaultModel.sha256);
  assert.equal(out.info.architecture, "llama");
  assert.deepEqual(out.warnings, []);
  const b = out.banner;
  assert.deepEqual(Object.keys(b.copy).sort(), ["cta", "headline", "subline"]);
  assert.ok(b.checks.every((c) => c.pass), JSON.stringify(b.checks.filter((c) => !c.pass)));
  assert.equal(b.personalized, true);
  assert.match(b.plan.why, /\S/);
  assert.deepEqual(Object.keys(out.subject.copy), ["subject"], "a string request is a goal for the writer's default kind");
  assert.equal(out.subject.personalized, false);
});

test("writeStreaming yields attempts, previews and the result; abort rejects with AbortError and the next call works", { timeout: T }, async () => {
  const out = await inPage(async ({ writers }) => {
    const writer = writers.main;
    const chunks = [];
    for await (const chunk of writer.writeStreaming({ kind: "email_subject", goal: "winter sale" })) chunks.push(chunk);

    // Abort while streaming.
    const controller = new AbortController();
    let abortedAt = null;
    let streamError = null;
    try {
      for await (const chunk of writer.writeStreaming({ kind: "social_post", goal: "winter sale" }, { signal: controller.signal })) {
        if (chunk.type === "preview" && abortedAt === null) {
          abortedAt = performance.now();
          controller.abort();
        }
      }
    } catch (e) {
      streamError = { name: e.name, dom: e instanceof DOMException, ms: performance.now() - abortedAt };
    }
    // Abort before the call, and while queued behind another request.
    const pre = await writer.write("x", { signal: AbortSignal.abort() }).catch((e) => e.name);
    const first = writer.write({ kind: "email_subject", goal: "gift ideas" });
    const queued = new AbortController();
    const second = writer.write({ kind: "email_subject" }, { signal: queued.signal });
    queued.abort();
    const [firstResult, secondError] = await Promise.all([first, second.catch((e) => e.name)]);
    // Leaving a stream early cancels it.
    for await (const chunk of writer.writeStreaming({ kind: "social_post" })) if (chunk.type === "preview") break;
    const next = await writer.write({ kind: "email_subject", goal: "spring hiking" });
    return { chunks, streamError, pre, firstSubject: firstResult.copy.subject, secondError, next: next.copy.subject };
  });
  const types = out.chunks.map((c) => c.type);
  assert.equal(types[0], "attempt");
  assert.equal(types.at(-1), "result");
  assert.ok(types.filter((t) => t === "preview").length >= 2, types.join(","));
  let draft = "";
  for (const c of out.chunks.filter((c) => c.type === "preview" && c.variant === 0 && c.attempt === 0)) {
    draft += c.text;
    assert.equal(c.draft, draft, "draft is the running text of its variant");
  }
  assert.ok(out.chunks.at(-1).result.checks.every((c) => c.pass));
  assert.equal(out.streamError.name, "AbortError");
  assert.equal(out.streamError.dom, true);
  assert.ok(out.streamError.ms < 1000, `abort took ${out.streamError.ms} ms`);
  assert.equal(out.pre, "AbortError");
  assert.match(out.firstSubject, /\S/);
  assert.equal(out.secondError, "AbortError");
  assert.match(out.next, /\S/, "the next call after aborts works");
});

test("rewrite and plan", { timeout: T }, async () => {
  const out = await inPage(async ({ writers, h }) => {
    const writer = writers.main;
    const rewritten = await writer.rewrite({
      kind: "banner",
      operation: "shorter",
      copy: { headline: "Our Basecamp 2 Tent is now on sale for $279", subline: "Sleep under the stars with a 2-person, 3-season tent that packs to 1.9 kg.", cta: "Shop the tent" },
    });
    const planned = await writer.plan({ kind: "banner", profile: await h.profile("gift-shopper") });
    return { rewritten, planned };
  });
  assert.deepEqual(Object.keys(out.rewritten.copy).sort(), ["cta", "headline", "subline"]);
  assert.ok(out.rewritten.checks.every((c) => c.pass), JSON.stringify(out.rewritten.checks.filter((c) => !c.pass)));
  assert.equal(out.planned.plan.personalized, true);
  assert.ok(Array.isArray(out.planned.warnings));
});

test("errors carry the table's names and codes", { timeout: T }, async () => {
  const out = await inPage(async ({ Banneret, h, model, catalog, brand, writers }) => {
    const writer = writers.main;
    const typo = await h.settle(writer.write({ kind: "banner", temprature: 0.5 }));
    const badKind = await h.settle(writer.write({ kind: "billboard" }));
    const badOption = await h.settle(Banneret.create({ model, catalog, brand, modle: "x" }));
    const badCatalog = await h.settle(Banneret.create({ model, catalog: { products: "none" }, brand }));
    const missing = await h.settle(Banneret.create({ model: "/models/nope.gguf", catalog, brand }));
    const wrongDigest = await h.settle(Banneret.create({ model: { ...model, url: `${model.url}?copy`, sha256: "0".repeat(64) }, catalog, brand }));
    const cachedAfterWrongDigest = await Banneret.availability({ model: { ...model, url: `${model.url}?copy` } });
    const doomed = await Banneret.create({ model, catalog, brand });
    const pending = h.settle(doomed.write({ kind: "social_post" }));
    doomed.destroy();
    const destroyedPending = await pending;
    const destroyed = await h.settle(doomed.write({ kind: "banner" }));
    return { typo, badKind, badOption, badCatalog, missing, wrongDigest, cachedAfterWrongDigest, destroyedPending, destroyed };
  });
  const is = (r, name, code) => {
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.error.name, name, JSON.stringify(r.error));
    if (code) assert.equal(r.error.code, code, JSON.stringify(r.error));
  };
  is(out.typo, "TypeError", "invalid_request");
  assert.equal(out.typo.error.typeError, true);
  assert.match(out.typo.error.message, /temprature/);
  is(out.badKind, "TypeError", "invalid_request");
  is(out.badOption, "TypeError", "invalid_request");
  assert.match(out.badOption.error.message, /modle/);
  is(out.badCatalog, "DataError", "invalid_input");
  is(out.missing, "NetworkError", "download_failed");
  assert.match(out.missing.error.message, /HTTP 404/);
  is(out.wrongDigest, "DataError", "model_integrity");
  assert.equal(out.cachedAfterWrongDigest, "downloadable", "bytes that failed their check are not cached");
  is(out.destroyedPending, "AbortError");
  assert.equal(out.destroyedPending.error.domException, true);
  is(out.destroyed, "InvalidStateError", "destroyed");
});

test("writers with different stores share one worker and one model", { timeout: T }, async () => {
  const out = await inPage(async ({ Banneret, h, model, writers }) => {
    const leafwise = await h.store("leafwise");
    const second = await Banneret.create({ model, ...leafwise, num_return_sequences: 1, max_retries: 0 });
    const [a, b] = await Promise.all([
      writers.main.write({ kind: "email_subject", goal: "winter sale" }),
      second.write({ kind: "email_subject", goal: "gift ideas", profile: await h.profile("cook-gift", "leafwise") }),
    ]);
    const source = second.model.source;
    second.destroy();
    return { source, a: a.plan.products.map((p) => p.sku), b: b.plan.products.map((p) => p.sku), still: (await writers.main.write({ kind: "email_subject" })).copy.subject };
  });
  assert.equal(out.source, "memory", "the second writer found the model loaded");
  assert.ok(out.a.every((sku) => sku.startsWith("NW-")), JSON.stringify(out.a));
  assert.ok(out.b.every((sku) => !sku.startsWith("NW-")), JSON.stringify(out.b));
  assert.match(out.still, /\S/, "destroying one writer leaves the other working");
  assert.equal(page.workers().length, 1, "one worker for the page");
});

test("a worker killed mid-generation: that request fails, the queued one and the next succeed, the model comes back from the device cache", { timeout: T }, async () => {
  await inPage(async ({ writers }) => {
    window.__crash = {};
    const writer = writers.main;
    window.__crash.running = (async () => {
      try {
        for await (const chunk of writer.writeStreaming({ kind: "social_post", goal: "winter sale" })) {
          if (chunk.type === "preview") window.__crash.previewing = true;
        }
        return { ok: true };
      } catch (e) {
        return { ok: false, name: e.name, code: e.code };
      }
    })();
  });
  await page.waitForFunction(() => window.__crash.previewing === true, null, { timeout: 120_000 });
  await inPage(async ({ writers }) => {
    window.__crash.queued = writers.main.write({ kind: "email_subject", goal: "winter sale" }).then((r) => ({ ok: true, subject: r.copy.subject }), (e) => ({ ok: false, name: e.name, code: e.code }));
  });
  const modelRequests = [];
  page.on("request", (r) => r.url().includes("/models/") && modelRequests.push(r.url()));
  const [worker] = page.workers();
  await worker.evaluate(() => setTimeout(() => { throw new Error("simulated crash"); }, 0));
  const out = await inPage(async ({ writers }) => {
    const running = await window.__crash.running;
    const queued = await window.__crash.queued;
    const next = await writers.main.write({ kind: "email_subject", goal: "spring" });
    return { running, queued, next: next.copy.subject };
  });
  assert.deepEqual(out.running, { ok: false, name: "OperationError", code: "worker_crashed" });
  assert.equal(out.queued.ok, true, JSON.stringify(out.queued));
  assert.match(out.next, /\S/);
  assert.equal(page.workers().length, 1, "a new worker took over");
  assert.deepEqual(modelRequests, [], "the model was reloaded from the device cache, not the network");
  const unexpected = problems.filter((p) => !p.includes("simulated crash"));
  assert.deepEqual(unexpected, []);
  assert.deepEqual(await cspViolations(page), []);
});
