// The Northwind storefront demo (www/index.html) end to end with the real
// model, under the server's CSP: every slot shows its fallback first (also
// while the model downloads) and personalized copy after; without consent
// nothing is stored and the copy is generic; switching profile changes the
// copy; forget() empties storage; a worker killed mid-generation leaves the
// slots on their fallback and the next request succeeds. Saves the
// screenshots the README shows (lib/storefront.mjs: SCREENSHOT_DIR).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath } from "./lib/paths.mjs";
import { SLOTS, SLOT_TIMEOUT, openStore, mark, changesSince, record, slotsReady, screenshot } from "./lib/storefront.mjs";

const T = SLOT_TIMEOUT + 60_000;
let server, browser, context, page, problems, dialogs;
let release;
const gate = new Promise((r) => (release = r));

before(async () => {
  server = await startServer({ modelFile: modelPath() });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  // The model waits for the cold-start test to look at the page first.
  ({ page, problems, dialogs } = await openStore(context, server, {
    beforeGoto: (p) => p.route("**/models/**", async (route) => {
      await gate;
      await route.continue();
    }),
  }));
});
after(async () => {
  release();
  await browser?.close();
  await server?.close();
});

const FALLBACK = {
  hero: { headline: "Winter gear, marked down", subline: "Jackets, tents and trail shoes for the cold months, while stock lasts.", cta: "Shop the sale" },
  blurb: { blurb: "A waterproof 3-layer shell with pit zips and a helmet-compatible hood, ready for wet trails and windy ridges." },
  subject: { subject: "Welcome to Northwind: gear notes for your next trip" },
};

// Every slot's changes since `from` start from its fallback and end with
// checked copy; returns the results.
async function assertFallbackThenCopy(from, { personalized }) {
  const slots = await slotsReady(page, from);
  const changes = await changesSince(page, from);
  for (const id of SLOTS) {
    const mine = changes.filter((c) => c.slot === id);
    assert.deepEqual(mine[0].fields, FALLBACK[id], `${id} first shows its fallback`);
    assert.ok(mine.slice(0, -1).every((c) => c.state !== "ready"), `${id} is ready only at the end`);
    const { state, result, why } = slots[id];
    assert.equal(state, "ready", `${id}: ${state}`);
    assert.ok(result.checks.every((c) => c.pass), `${id}: ${JSON.stringify(result.checks.filter((c) => !c.pass))}`);
    assert.equal(result.personalized, personalized, `${id} personalized`);
    assert.deepEqual(mine.at(-1).fields, result.copy, `${id} shows the result's copy`);
    assert.notDeepEqual(result.copy, FALLBACK[id], `${id} copy replaced the fallback`);
    assert.match(why, /\S/);
    const panel = await page.textContent(`[data-why-for="${id}"] .why-body`);
    assert.ok(panel.includes(why), `${id}: why-you-see-this shows the plan's reason`);
  }
  return slots;
}

test("cold start: the store's own copy shows at once while the model downloads", { timeout: T }, async () => {
  try {
    const fields = await page.evaluate(() => window.__rec.fallback);
    assert.deepEqual(fields, FALLBACK);
    for (const id of SLOTS) {
      assert.equal(await page.getAttribute(`#${id}`, "data-state"), "fallback");
      assert.equal(await page.getAttribute(`#${id}`, "aria-busy"), "true", `${id} is waiting for the writer`);
    }
    assert.match(await page.textContent("#model-status"), /Downloading the model once/);
    assert.equal(await page.getAttribute("body", "data-availability"), "downloadable");
    assert.equal(await page.isChecked("#consent"), false);
    await screenshot(page, "cold-start");
  } finally {
    release();
  }
});

test("without consent nothing is stored and every slot gets generic copy", { timeout: T }, async () => {
  await page.waitForSelector("body[data-state=ready]", { timeout: 120_000 });
  const bar = await page.$eval("#model-progress", (p) => [Number(p.dataset.loaded), Number(p.dataset.total)]);
  assert.equal(bar[0], bar[1]);
  assert.match(await page.textContent("#model-status"), /^Ready: downloaded in [\d.]+ s, kept on this device/);
  await assertFallbackThenCopy(0, { personalized: false });
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.match(await page.textContent("#knows"), /Nothing is stored/);
  for (const id of SLOTS) assert.match(await page.textContent(`[data-why-for="${id}"] .why-body`), /No personal signal was used/);
  await screenshot(page, "no-consent");
});

let trailRunner;
test("with consent and a profile, every slot goes from fallback to personalized copy", { timeout: T }, async () => {
  const from = await mark(page);
  await page.check("#consent");
  await page.selectOption("#visitor", "trail-runner");
  trailRunner = await assertFallbackThenCopy(from, { personalized: true });
  assert.ok(trailRunner.hero.result.plan.signals.some((s) => s.personal));
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("banneret.profile.v1")));
  assert.equal(stored.id, "trail-runner");
  assert.match(await page.textContent("#knows"), /Ridgeline Trail Runner × 3/);
  await page.click('[data-why-for="hero"] summary');
  await screenshot(page, "personalized");
  await page.click('[data-why-for="hero"] summary');
});

test("switching profile changes the copy", { timeout: T }, async () => {
  const from = await mark(page);
  await page.selectOption("#visitor", "cart-abandoner");
  const cart = await assertFallbackThenCopy(from, { personalized: true });
  const featured = cart.blurb.result.plan.featured[0];
  assert.ok(["NW-TN-520", "NW-SB-530"].includes(featured), featured);
  assert.notEqual(featured, trailRunner.blurb.result.plan.featured[0]);
  assert.equal(await page.getAttribute("#spotlight", "data-sku"), featured, "the spotlight shows the product the blurb is about");
  for (const id of SLOTS) assert.notDeepEqual(cart[id].result.copy, trailRunner[id].result.copy, `${id} copy changed with the profile`);
});

test("what the visitor does is recorded on the device, and forget() empties storage", { timeout: T }, async () => {
  await page.selectOption("#visitor", "");
  await page.check("#consent");
  await page.click('[data-sku="NW-KB-720"] .quick summary');
  await page.click('[data-sku="NW-YG-710"] .add');
  await page.fill("#search-input", "kettlebell");
  await page.press("#search-input", "Enter");
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("banneret.profile.v1")));
  assert.deepEqual(stored.viewed.map((v) => v.sku), ["NW-KB-720"]);
  assert.deepEqual(stored.cart.map((c) => c.sku), ["NW-YG-710"]);
  assert.deepEqual(stored.searches, ["kettlebell"]);
  assert.match(await page.textContent("#knows"), /Cast Iron Kettlebell 12 kg × 1/);
  assert.match(await page.textContent("#filter-status"), /1 product matches “kettlebell”/);
  const from = await mark(page);
  await page.click("#forget");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "forget() leaves nothing in localStorage");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.isChecked("#consent"), false);
  assert.match(await page.textContent("#knows"), /Nothing is stored/);
  const now = await changesSince(page, from);
  for (const id of SLOTS) {
    const first = now.find((c) => c.slot === id);
    assert.deepEqual(first.fields, FALLBACK[id], `${id} drops personalized copy at once`);
  }
});

test("a worker killed mid-generation: slots keep their fallback, queued ones and the next request succeed", { timeout: T }, async () => {
  // After forget() the slots are writing generic copy; kill the worker while the hero streams.
  await page.waitForSelector("#hero[data-state=streaming]", { timeout: SLOT_TIMEOUT });
  const from = await mark(page);
  const [worker] = page.workers();
  await worker.evaluate(() => setTimeout(() => { throw new Error("simulated crash"); }, 0));
  await page.waitForSelector("#hero[data-state=error]", { timeout: 60_000 });
  const hero = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#hero [data-field]")].map((f) => [f.dataset.field, f.textContent])));
  assert.deepEqual(hero, FALLBACK.hero, "the hero keeps its fallback");
  assert.equal(await page.$("#hero [data-preview]"), null, "the unchecked draft is gone");
  const events = (await record(page)).events.filter((e) => e.type === "banneret:error");
  assert.deepEqual(events.map((e) => [e.slot, e.error]), [["hero", "OperationError/worker_crashed"]]);
  // The blurb and subject were queued: they were sent again to the new worker.
  await page.waitForSelector("#blurb[data-state=ready]", { timeout: SLOT_TIMEOUT });
  await page.waitForSelector("#subject[data-state=ready]", { timeout: SLOT_TIMEOUT });
  await page.evaluate(() => document.getElementById("hero").refresh());
  await page.waitForSelector("#hero[data-state=ready]", { timeout: SLOT_TIMEOUT });
  const changes = await changesSince(page, from);
  assert.ok(changes.some((c) => c.slot === "hero" && c.state === "ready"));
  assert.equal(await page.getAttribute("#hero", "data-personalized"), "false");
  assert.equal(page.workers().length, 1);
});

test("nothing went wrong on the page", { timeout: T }, async () => {
  const rec = await record(page);
  assert.deepEqual(rec.csp, []);
  assert.deepEqual(dialogs, []);
  const added = [...new Set(rec.added)].sort();
  for (const a of added) assert.match(a, /^(hero|blurb|subject):span\[data-preview\]$/, `unexpected element in a slot: ${a}`);
  assert.deepEqual(problems.filter((p) => !p.includes("simulated crash")), []);
});
