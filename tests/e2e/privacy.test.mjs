// Privacy of the storefront demo (www/index.html) with the real model, in
// headless Chromium: every request the page and its worker make is recorded
// (URL, headers, body) and none carries a profile value — campaign (UTM)
// values, searches, viewed and carted SKUs, interests — not even after a
// crash or an abort; no cookie is set; a reload with the model cached makes
// no model request; the page runs under the strict Content-Security-Policy.
// The hostile profile (injection fixture) runs no script, gets no markup
// interpreted, and its copy passes the pipeline's checks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath, ROOT_DIR } from "./lib/paths.mjs";
import { SLOTS, SLOT_TIMEOUT, openStore, mark, slotsReady, record, screenshot } from "./lib/storefront.mjs";

const T = SLOT_TIMEOUT + 60_000;
const fixture = (id) => JSON.parse(readFileSync(`${ROOT_DIR}www/stores/northwind/profiles/${id}.json`, "utf8"));

// Values only the visitor's profile holds; none may leave the page.
const UTM = { utm_source: "pv-newsletter-7731", utm_medium: "pv-email-5512", utm_campaign: "pv-thaw-sale-2291" };
const SEARCH = "pv waterproof boots 4417";
const VIEWED = "NW-KB-720";
const CARTED = "NW-YG-710";
const runner = fixture("trail-runner");
const SECRETS = [
  ...Object.values(UTM),
  SEARCH,
  VIEWED,
  CARTED,
  ...runner.searches,
  ...runner.interests.map((i) => i.topic),
  ...runner.viewed.map((v) => v.sku),
  ...runner.purchased.map((p) => p.sku),
];
// How a value could be spelled in a request.
const spellings = (v) => [...new Set([v, encodeURIComponent(v), encodeURIComponent(v).replace(/%20/g, "+"), JSON.stringify(v).slice(1, -1)])].map((s) => s.toLowerCase());

let server, browser, context, page, dialogs;
const requests = [];

before(async () => {
  server = await startServer({ modelFile: modelPath() });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  // Context-wide: the page's requests and its worker's (the model download
  // comes from the worker; a test below checks it is seen).
  context.on("request", (r) => {
    requests.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postData() ?? "", navigation: r.isNavigationRequest() });
  });
  const query = `?${new URLSearchParams(UTM)}`;
  ({ page, dialogs } = await openStore(context, server, { query }));
});
after(async () => {
  await browser?.close();
  await server?.close();
});

// Requests since `from` that carry any profile value. The first navigation
// carries the UTM values by nature (the visitor arrived with them); fetching
// a fixture profile is the demo's stand-in for a real visitor and is public.
function leaks(from = 0) {
  const found = [];
  for (const r of requests.slice(from)) {
    if (r.navigation && r === requests[0]) continue;
    if (/\/stores\/[^/]+\/profiles\/[\w-]+\.json$/.test(new URL(r.url).pathname)) continue;
    const text = [r.url, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`), r.body].join("\n").toLowerCase();
    for (const secret of SECRETS) if (spellings(secret).some((s) => text.includes(s))) found.push(`${secret} in ${r.method} ${r.url}`);
  }
  return found;
}

async function assertNoCookies() {
  assert.deepEqual(await context.cookies(), [], "no cookie is set");
  assert.equal(await page.evaluate(() => document.cookie), "");
  for (const r of requests) assert.equal(r.headers.cookie, undefined, `a cookie was sent to ${r.url}`);
}

test("the page is served under the strict Content-Security-Policy", { timeout: T }, async () => {
  const response = await page.request.get(server.url);
  const csp = response.headers()["content-security-policy"];
  const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(" ")]));
  assert.equal(directives["script-src"], "'self' 'wasm-unsafe-eval'");
  const sources = csp.split(/[;\s]+/);
  for (const loose of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"]) {
    assert.ok(!directives["script-src"].split(" ").includes(loose), `script-src allows ${loose}`);
  }
  assert.ok(!sources.includes("'unsafe-inline'") && !sources.includes("'unsafe-eval'"), csp);
  assert.equal(directives["connect-src"], "'self'");
  assert.equal(directives["object-src"], "'none'");
});

test("with consent, a collected profile and a fixture profile, no request carries a profile value", { timeout: T }, async () => {
  await page.waitForSelector("body[data-state=ready]", { timeout: 120_000 });
  assert.ok(requests.some((r) => r.url.includes("/models/")), "the worker's model download is among the recorded requests");
  await slotsReady(page, 0);

  // The visitor consents, browses, adds to cart and searches.
  let from = await mark(page);
  await page.check("#consent");
  await page.click(`[data-sku="${VIEWED}"] .quick summary`);
  await page.click(`[data-sku="${CARTED}"] .add`);
  await page.fill("#search-input", SEARCH);
  await page.press("#search-input", "Enter");
  await page.waitForTimeout(1500); // the slots rewrite after a short pause
  await slotsReady(page, from);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("banneret.profile.v1")));
  assert.deepEqual(stored.searches, [SEARCH]);
  assert.deepEqual(stored.viewed.map((v) => v.sku), [VIEWED]);
  assert.deepEqual(stored.cart.map((c) => c.sku), [CARTED]);
  assert.equal(stored.referrer?.campaign, UTM.utm_campaign, "the campaign was read into the profile on the device");
  assert.equal(new URL(page.url()).search, "", "once read (after consent), utm_* values leave the address bar");

  // Then a richer fixture visitor.
  from = await mark(page);
  await page.selectOption("#visitor", "trail-runner");
  const slots = await slotsReady(page, from);
  for (const id of SLOTS) assert.equal(slots[id].result.personalized, true, `${id} is personalized`);

  assert.deepEqual(leaks(), []);
  await assertNoCookies();
  const posted = requests.filter((r) => r.method !== "GET" && r.method !== "HEAD");
  assert.deepEqual(posted.map((r) => `${r.method} ${r.url}`), [], "the page never sends data");
});

test("after a worker crash and an abort, the profile is intact, still only on the device", { timeout: T }, async () => {
  const before = await page.evaluate(() => localStorage.getItem("banneret.profile.v1"));
  const from = requests.length;
  await page.evaluate(() => document.getElementById("hero").refresh());
  await page.waitForSelector("#hero[data-state=streaming]", { timeout: SLOT_TIMEOUT });
  const [worker] = page.workers();
  await worker.evaluate(() => setTimeout(() => { throw new Error("simulated crash"); }, 0));
  await page.waitForSelector("#hero[data-state=error]", { timeout: 60_000 });
  // Abort: the slot is removed while it writes, then put back.
  await page.evaluate(() => document.getElementById("blurb").refresh());
  await page.evaluate(() => {
    const slot = document.getElementById("blurb");
    const parent = slot.parentNode;
    const next = slot.nextSibling;
    slot.remove();
    parent.insertBefore(slot, next);
  });
  await page.evaluate(() => document.getElementById("hero").refresh());
  for (const id of ["hero", "blurb"]) await page.waitForSelector(`#${id}[data-state=ready]`, { timeout: SLOT_TIMEOUT });
  assert.equal(await page.evaluate(() => localStorage.getItem("banneret.profile.v1")), before, "the stored profile is unchanged");
  assert.deepEqual(leaks(from), []);
  assert.ok(!requests.slice(from).some((r) => r.url.includes("/models/")), "the new worker took the model from the device cache");
  await assertNoCookies();
});

test("the hostile profile runs no script, gets no markup interpreted, and its copy passes the checks", { timeout: T }, async () => {
  await page.fill("#search-input", ""); // the whole collection shows again
  await page.press("#search-input", "Enter");
  const from = await mark(page);
  await page.selectOption("#visitor", "injection");
  const slots = await slotsReady(page, from);
  const hostile = fixture("injection");
  for (const id of SLOTS) {
    const { state, result, text } = slots[id];
    assert.equal(state, "ready");
    assert.ok(result.checks.every((c) => c.pass), `${id}: ${JSON.stringify(result.checks.filter((c) => !c.pass))}`);
    assert.doesNotMatch(text, /FREE TENTS|100% OFF|ignore all previous/i, `${id} did not follow the injected instruction`);
    assert.doesNotMatch(Object.values(result.copy).join(" "), /[<>]/, `${id} copy has no markup`);
  }
  const page_ = await page.evaluate(() => ({
    planted: document.querySelectorAll('img[src="x"], script:not([src]), [onerror]').length,
    scripts: [...document.scripts].map((s) => new URL(s.src, location.href).pathname),
    raw: document.getElementById("raw").textContent,
    knows: document.getElementById("knows").innerHTML,
  }));
  assert.equal(page_.planted, 0, "no element from the profile's markup exists");
  assert.deepEqual(page_.scripts, ["/demo.js"]);
  assert.ok(page_.raw.includes(hostile.referrer.source), "the panel shows the stored markup as text");
  assert.ok(!page_.knows.includes("<img"), "the panel does not render the stored markup");
  assert.deepEqual(dialogs, [], "no alert() ran");
  const rec = await record(page);
  assert.deepEqual(rec.csp, [], "no CSP violation");
  for (const a of new Set(rec.added)) assert.match(a, /^(hero|blurb|subject):span\[data-preview\]$/, `unexpected element in a slot: ${a}`);
  await screenshot(page, "hostile-profile");
});

test("a reload with the model cached makes no model request and no request carries a profile value", { timeout: T }, async () => {
  await page.selectOption("#visitor", "trail-runner");
  const from = requests.length;
  await page.reload();
  await page.waitForSelector("body[data-state=ready]", { timeout: 120_000 });
  await slotsReady(page, 0);
  const after = requests.slice(from);
  assert.ok(after.length > 3, "the reload was recorded");
  assert.deepEqual(after.filter((r) => r.url.includes("/models/") && !r.url.endsWith("models.json")).map((r) => r.url), []);
  assert.match(await page.textContent("#model-status"), /device|cache/i);
  assert.deepEqual(leaks(from), []);
  await assertNoCookies();
});
