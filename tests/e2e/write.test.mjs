// The marketing pipeline through the worker in headless Chromium: a store is
// set, a write streams attempt/token events and ends with copy that passed
// every check, and a cancel stops it between tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath } from "./lib/paths.mjs";

let server, browser;
before(async () => {
  server = await startServer({ modelFile: modelPath() });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("a banner is written for a fixture profile, checked, and a write can be cancelled", async () => {
  const page = await browser.newPage();
  const problems = watchPage(page);
  await page.goto(`${server.url}playground.html`);
  await page.waitForSelector("body[data-state=idle]");
  const out = await page.evaluate(async () => {
    const { WorkerClient, Kind } = await import("./client.js");
    const client = new WorkerClient();
    const json = async (path) => (await fetch(path)).json();
    const manifest = await json("models.json");
    const model = manifest.models.find((m) => m.file === manifest.default);
    await client.request(Kind.loadModel, { url: new URL(`models/${model.file}`, location.href).href, expectedBytes: model.bytes });
    const [catalog, brand, profile] = await Promise.all([
      json("stores/northwind/catalog.json"),
      json("stores/northwind/brand.json"),
      json("stores/northwind/profiles/cart-abandoner.json"),
    ]);
    const { warnings } = await client.request(Kind.setStore, { catalog, brand });
    const warmed = await client.request(Kind.warmup, { kinds: ["banner"] });
    const events = [];
    const result = await client.request(
      Kind.write,
      { request: { kind: "banner", goal: "winter sale", profile, seed: 7, num_return_sequences: 2, max_retries: 0 } },
      { onEvent: (e) => events.push(e.type) },
    );
    // Cancel a second write after its first token.
    let cancelled = null;
    const running = client.start(Kind.write, { request: { kind: "social_post", profile } }, {
      onEvent: (e) => { if (e.type === "token" && !cancelled) cancelled = client.request(Kind.cancel, { target: running.id }); },
    });
    const error = await running.done.then(() => null, (e) => e.name);
    const plan = await client.request(Kind.plan, { request: { kind: "banner", profile } });
    client.terminate();
    return { warnings, warmed, events: [...new Set(events)], result, error, plan };
  });
  assert.deepEqual(out.warnings, []);
  // The banner's two warm-up prompts: the worked example with the store's
  // pick, and with the next product for visitors who are shown that pick.
  assert.equal(out.warmed.prompts, 2);
  assert.ok(out.warmed.tokens > 100, `warm-up read ${out.warmed.tokens} tokens`);
  assert.deepEqual(out.events.sort(), ["attempt", "token"]);
  const r = out.result;
  assert.deepEqual(Object.keys(r.copy).sort(), ["cta", "headline", "subline"]);
  assert.ok(r.checks.every((c) => c.pass), JSON.stringify(r.checks.filter((c) => !c.pass)));
  assert.equal(r.personalized, true);
  assert.ok(r.plan.featured.some((sku) => sku === "NW-TN-520" || sku === "NW-SB-530"), JSON.stringify(r.plan.featured));
  assert.match(r.plan.why, /cart/);
  // The visitor's part of the prompt was not warmed up: reading it is timed
  // as its own part of the time inside the model.
  const t = r.timings_ms;
  assert.ok(t.prompt > 0 && t.prompt < t.create && t.create <= t.total, JSON.stringify(t));
  assert.equal(out.error, "cancelled");
  assert.deepEqual(out.plan.plan.featured, r.plan.featured);
  assert.deepEqual(problems, []);
  await page.close();
});
