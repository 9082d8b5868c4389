// The on-device profile collector (www/profile.js) in headless Chromium, no
// model needed: nothing is stored before consent, what is stored is the
// fixture format the crate reads (checked by the crate itself, through the
// worker's plan request), lists are capped, UTM values are read and taken out
// of the address bar, forget() leaves storage empty, and a storage that
// refuses writes leaves a working in-memory profile.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { blankPage } from "./lib/pages.mjs";

// A hung page fails the test instead of the run.
const T = 60_000;
let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function freshPage(query = "") {
  const context = await browser.newContext();
  const { page, problems } = await blankPage(context, server);
  if (query) await page.evaluate((q) => history.replaceState(null, "", `${location.pathname}${q}`), query);
  return { context, page, problems };
}

test("without consent nothing is stored and the profile is generic", { timeout: T }, async () => {
  const { context, page, problems } = await freshPage("?utm_source=news&utm_campaign=spring");
  const out = await page.evaluate(async () => {
    const { createProfile } = await import("/banneret.js");
    const h = await import("/__test/helpers.js");
    const { catalog } = await h.store();
    const p = createProfile({ catalog });
    p.recordView("NW-TR-101");
    p.recordCart("NW-TN-520");
    p.recordSearch("tent sale");
    p.recordInterest("Fitness");
    p.captureCampaign();
    return { consent: p.consent, stored: localStorage.length, session: sessionStorage.length, exported: p.export(), get: p.get(), cookie: document.cookie, search: location.search };
  });
  assert.equal(out.consent, false);
  assert.equal(out.stored, 0);
  assert.equal(out.session, 0);
  assert.equal(out.exported, null);
  assert.deepEqual(Object.keys(out.get).sort(), ["consent", "locale"]);
  assert.equal(out.get.consent.personalization, false);
  assert.equal(out.cookie, "");
  assert.equal(out.search, "?utm_source=news&utm_campaign=spring", "without consent the address is left alone");
  assert.deepEqual(problems, []);
  await context.close();
});

test("with consent it keeps the fixture format, caps lists, reads UTM values and forgets everything", { timeout: T }, async () => {
  const { context, page, problems } = await freshPage("?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale&color=red");
  const out = await page.evaluate(async () => {
    const { createProfile, STORAGE_KEY, LIMITS } = await import("/banneret.js");
    const h = await import("/__test/helpers.js");
    const { catalog } = await h.store();
    const p = createProfile({ catalog });
    let changes = 0;
    p.addEventListener("change", () => changes++);
    p.setConsent(true);
    const afterConsent = { search: location.search, referrer: p.export().referrer };
    p.recordView("NW-TR-101");
    p.recordView("NW-TR-101");
    p.recordView("NW-HL-820");
    p.recordView("NW-NOT-IN-CATALOG");
    p.recordCart("NW-TN-520", 2);
    p.recordSearch("  trail\u0000 shoes\n wide fit ");
    for (let i = 0; i < LIMITS.searches + 5; i++) p.recordSearch(`search ${i}`);
    p.recordSearch("x".repeat(500));
    p.recordInterest("Running & Walking", 0.9);
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY));
    const exported = p.export();
    const profile = p.get();
    // A second collector (a reload) reads the same profile back.
    const again = createProfile({ catalog }).export();
    p.forget();
    return { afterConsent, stored, exported, profile, again, changes, keysAfterForget: localStorage.length, getAfterForget: p.get(), limits: LIMITS };
  });
  assert.equal(out.afterConsent.search, "?color=red", "utm_* leave the address bar once read");
  assert.deepEqual(out.afterConsent.referrer, { source: "newsletter", medium: "email", campaign: "winter-sale" });
  assert.deepEqual(out.exported, out.stored, "export() is exactly what is stored");
  const s = out.stored;
  assert.equal(s.consent.personalization, true);
  assert.deepEqual(s.viewed.map((v) => [v.sku, v.count]).sort(), [["NW-HL-820", 1], ["NW-TR-101", 2]], "unknown SKUs are not kept");
  assert.ok(s.viewed.every((v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v.last)), JSON.stringify(s.viewed));
  assert.deepEqual(s.cart.map((c) => [c.sku, c.qty]), [["NW-TN-520", 2]]);
  assert.equal(s.searches.length, out.limits.searches);
  assert.ok(!s.searches.includes("trail shoes wide fit"), "the oldest searches fall out");
  assert.equal(s.searches.at(-1), "x".repeat(out.limits.text));
  assert.ok(s.searches.every((q) => !/[\u0000-\u001f]/.test(q)));
  assert.equal(s.visits.count, 1);
  assert.deepEqual(out.again, out.stored, "a reload reads the same profile");
  // get(): the fixture format, with interests worked out from the catalog and the moment's context.
  const g = out.profile;
  for (const key of ["consent", "locale", "interests", "viewed", "cart", "purchased", "searches", "visits", "referrer", "context"]) assert.ok(key in g, key);
  const topics = g.interests.map((i) => i.topic);
  assert.ok(topics.includes("Running & Walking") && topics.includes("Camping & Hiking") && topics.includes("Accessories"), JSON.stringify(g.interests));
  assert.ok(g.interests.every((i) => i.weight > 0 && i.weight <= 1));
  assert.match(g.context.local_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.ok(["mobile", "tablet", "desktop"].includes(g.context.device));
  assert.ok(out.changes >= 5);
  assert.equal(out.keysAfterForget, 0, "forget() empties storage");
  assert.equal(out.getAfterForget.consent.personalization, false);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the crate reads the collected profile without complaint and finds its signals", { timeout: T }, async () => {
  const { context, page, problems } = await freshPage();
  const out = await page.evaluate(async () => {
    const { createProfile } = await import("/banneret.js");
    const { WorkerClient, Kind } = await import("/client.js");
    const h = await import("/__test/helpers.js");
    const { catalog, brand } = await h.store();
    const p = createProfile({ catalog });
    p.setConsent(true);
    p.recordView("NW-TN-520");
    p.recordCart("NW-TN-520");
    p.recordSearch("lightweight tent");
    const client = new WorkerClient();
    try {
      await client.request(Kind.setStore, { catalog, brand });
      const planned = await client.request(Kind.plan, { request: { kind: "banner", profile: p.get() } });
      const generic = await client.request(Kind.plan, { request: { kind: "banner", profile: createProfile({ catalog, storage: sessionStorage, key: "unused" }).get() } });
      return { planned, generic };
    } finally {
      client.terminate();
      p.forget();
    }
  });
  assert.deepEqual(out.planned.warnings, [], "no field of the collected profile was cleaned or dropped");
  assert.equal(out.planned.plan.personalized, true);
  assert.equal(out.planned.plan.featured[0], "NW-TN-520");
  assert.ok(out.planned.plan.signals.some((s) => s.kind === "cart" && s.personal));
  assert.equal(out.generic.plan.personalized, false);
  assert.ok(out.generic.plan.signals.every((s) => !s.personal));
  assert.deepEqual(problems, []);
  await context.close();
});

test("a storage that refuses writes leaves a working profile in memory", { timeout: T }, async () => {
  const { context, page, problems } = await freshPage();
  const out = await page.evaluate(async () => {
    const { createProfile } = await import("/banneret.js");
    const refusing = {
      getItem: () => null,
      setItem: () => { throw new DOMException("quota", "QuotaExceededError"); },
      removeItem: () => {},
    };
    const p = createProfile({ storage: refusing });
    p.setConsent(true);
    p.recordSearch("rain jacket");
    return { consent: p.consent, error: p.storageError, searches: p.get().searches, stored: localStorage.length };
  });
  assert.deepEqual(out, { consent: true, error: "QuotaExceededError", searches: ["rain jacket"], stored: 0 });
  assert.deepEqual(problems, []);
  await context.close();
});

test("importing a fixture keeps it as it is; one without consent erases everything", { timeout: T }, async () => {
  const { context, page, problems } = await freshPage();
  const out = await page.evaluate(async () => {
    const { createProfile } = await import("/banneret.js");
    const h = await import("/__test/helpers.js");
    const { catalog } = await h.store();
    const fixture = await h.profile("trail-runner");
    const p = createProfile({ catalog });
    p.import(fixture);
    const imported = p.get();
    const stored = localStorage.length;
    p.import(await h.profile("no-consent"));
    return { fixture, imported, stored, after: localStorage.length, consent: p.consent };
  });
  assert.deepEqual(out.imported.interests, out.fixture.interests, "an imported profile's interests are used as they are");
  assert.deepEqual(out.imported.context, out.fixture.context);
  assert.deepEqual(out.imported.viewed, out.fixture.viewed);
  assert.equal(out.stored, 1);
  assert.equal(out.after, 0);
  assert.equal(out.consent, false);
  assert.deepEqual(problems, []);
  await context.close();
});
