// <banneret-slot> (www/slot.js) in headless Chromium with stand-in writers
// (no model): fallback first, per-field swap through textContent only (hostile
// copy stays text), streaming preview kept apart and cleared, events, abort on
// removal, fallback kept on errors, and registration that never clashes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { blankPage, cspViolations } from "./lib/pages.mjs";

// A hung page fails the test instead of the run.
const T = 60_000;
let server, browser, context;
before(async () => {
  server = await startServer();
  browser = await launchChromium();
  context = await browser.newContext();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const HOSTILE = `<img src=x onerror="window.__xss=1">Save now</b><script>window.__xss=2</script>`;

test("shows the fallback at once, then each field's copy as text, and says why", { timeout: T }, async () => {
  const { page, problems } = await blankPage(context, server);
  const out = await page.evaluate(async (hostile) => {
    const { defineSlot } = await import("/banneret.js");
    let release;
    const gate = new Promise((r) => (release = r));
    const requests = [];
    const writer = {
      async write(request, { signal }) {
        requests.push(request);
        await gate;
        signal.throwIfAborted();
        return { copy: { headline: hostile, subline: "A subline", cta: "Go" }, source: "model", personalized: true, plan: { why: "Because you looked at <b>tents</b>." }, checks: [] };
      },
    };
    defineSlot({ writer, profile: () => ({ consent: { personalization: true }, searches: ["tents"] }) });
    document.body.innerHTML = `<banneret-slot kind="banner" goal="winter sale" tone="casual" variants="2">
      <h1 data-field="headline">Fallback headline</h1><p data-field="subline">Fallback subline</p><a data-field="cta" href="#">Shop</a></banneret-slot>`;
    const slot = document.querySelector("banneret-slot");
    const events = [];
    slot.addEventListener("banneret:ready", (e) => events.push(e.detail));
    await new Promise((r) => setTimeout(r, 50));
    const before = { text: slot.querySelector("h1").textContent, state: slot.dataset.state, busy: slot.getAttribute("aria-busy") };
    release();
    await new Promise((r) => setTimeout(r, 50));
    return {
      before,
      request: requests[0],
      headline: slot.querySelector("h1").textContent,
      headlineChildren: slot.querySelector("h1").children.length,
      cta: slot.querySelector("a").textContent,
      state: slot.dataset.state,
      personalized: slot.dataset.personalized,
      source: slot.dataset.source,
      busy: slot.getAttribute("aria-busy"),
      why: slot.why,
      imgs: document.querySelectorAll("img, script, b").length,
      xss: window.__xss ?? null,
      event: events.length === 1 ? { why: events[0].why, copy: events[0].copy, personalized: events[0].personalized } : events.length,
    };
  }, HOSTILE);
  assert.deepEqual(out.before, { text: "Fallback headline", state: "writing", busy: "true" });
  assert.deepEqual(out.request, { kind: "banner", goal: "winter sale", tone: "casual", num_return_sequences: 2, profile: { consent: { personalization: true }, searches: ["tents"] } });
  assert.equal(out.headline, HOSTILE, "hostile copy shows as text");
  assert.equal(out.headlineChildren, 0);
  assert.equal(out.imgs, 0, "no markup was interpreted");
  assert.equal(out.xss, null);
  assert.equal(out.cta, "Go");
  assert.equal(out.state, "ready");
  assert.equal(out.personalized, "true");
  assert.equal(out.source, "model");
  assert.equal(out.busy, null);
  assert.equal(out.why, "Because you looked at <b>tents</b>.");
  assert.deepEqual(out.event, { why: out.why, copy: { headline: HOSTILE, subline: "A subline", cta: "Go" }, personalized: true });
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test("streams a preview apart from the fields, clears it, and restores the fallback on refresh", { timeout: T }, async () => {
  const { page, problems } = await blankPage(context, server);
  const out = await page.evaluate(async () => {
    const { defineSlot } = await import("/banneret.js");
    const seen = [];
    const writer = {
      writeStreaming(request, { signal }) {
        return new ReadableStream({
          async start(c) {
            c.enqueue({ type: "attempt", attempt: 0, variants: 1, seed: 1 });
            c.enqueue({ type: "preview", attempt: 0, variant: 0, text: "Subject: <i>Raw", draft: "Subject: <i>Raw" });
            await new Promise((r) => setTimeout(r, 30));
            seen.push(document.querySelector("[data-preview]")?.textContent ?? null);
            seen.push(document.querySelector("store-subject").dataset.state);
            c.enqueue({ type: "preview", attempt: 0, variant: 1, text: "other", draft: "other" });
            c.enqueue({ type: "result", result: { copy: { subject: "Checked subject" }, source: "model", personalized: false, plan: { why: "Store copy." } } });
            c.close();
          },
        });
      },
    };
    defineSlot({ tagName: "store-subject", writer });
    document.body.innerHTML = `<store-subject kind="email_subject" stream><em>Fallback</em> subject</store-subject>`;
    const slot = document.querySelector("store-subject");
    await new Promise((r) => slot.addEventListener("banneret:ready", r, { once: true }));
    const ready = { html: slot.innerHTML, previews: slot.querySelectorAll("[data-preview]").length };
    slot.refresh();
    const restored = slot.innerHTML;
    slot.remove();
    return { seen, ready, restored };
  });
  assert.deepEqual(out.seen, ["<i>Raw", "streaming"], "the raw draft shows as text, labels dropped, in its own element");
  assert.equal(out.ready.previews, 0, "the preview is gone once the checked copy is in");
  assert.equal(out.ready.html, '<span data-field="subject">Checked subject</span>');
  assert.equal(out.restored, "<em>Fallback</em> subject", "refresh shows the original fallback nodes again");
  assert.deepEqual(problems, []);
  await page.close();
});

test("a removed slot aborts its request; an error keeps the fallback", { timeout: T }, async () => {
  const { page, problems } = await blankPage(context, server);
  const out = await page.evaluate(async () => {
    const { defineSlot } = await import("/banneret.js");
    const signals = [];
    let fail = false;
    const writer = {
      write(request, { signal }) {
        signals.push(signal);
        if (fail) return Promise.reject(Object.assign(new Error("the engine stopped"), { name: "OperationError", code: "worker_crashed" }));
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    };
    defineSlot({ tagName: "x-slot", writer });
    document.body.innerHTML = `<x-slot kind="product_blurb"><p data-field="blurb">Fallback blurb</p></x-slot>`;
    const slot = document.querySelector("x-slot");
    const events = [];
    for (const type of ["banneret:ready", "banneret:error"]) document.addEventListener(type, (e) => events.push([type, e.detail.error?.code ?? null]));
    await new Promise((r) => setTimeout(r, 20));
    slot.remove();
    await new Promise((r) => setTimeout(r, 20));
    const removed = { aborted: signals[0].aborted, reason: signals[0].reason?.name, events: [...events] };
    fail = true;
    document.body.append(slot);
    await new Promise((r) => setTimeout(r, 20));
    return { removed, requests: signals.length, events, text: slot.textContent, state: slot.dataset.state };
  });
  assert.deepEqual(out.removed, { aborted: true, reason: "AbortError", events: [] });
  assert.equal(out.requests, 2, "put back, it asks again");
  assert.deepEqual(out.events, [["banneret:error", "worker_crashed"]]);
  assert.equal(out.text, "Fallback blurb");
  assert.equal(out.state, "error");
  assert.deepEqual(problems, []);
  await page.close();
});

test("registers without clashing: same tag twice, two copies of the module, a tag the page took", { timeout: T }, async () => {
  const { page, problems } = await blankPage(context, server);
  const out = await page.evaluate(async () => {
    const a = await import("/slot.js");
    const b = await import("/slot.js?copy=2"); // the module loaded twice (two bundles)
    const first = a.defineSlot({ writer: { write: async () => ({ copy: { subject: "A" }, plan: {} }) } });
    const second = a.defineSlot({ writer: { write: async () => ({ copy: { subject: "B" }, plan: {} }) } });
    const third = b.defineSlot({});
    customElements.define("taken-slot", class extends HTMLElement {});
    let clash = null;
    try {
      a.defineSlot({ tagName: "taken-slot" });
    } catch (e) {
      clash = e.name;
    }
    document.body.innerHTML = `<banneret-slot kind="email_subject"><span data-field="subject">F</span></banneret-slot>`;
    await new Promise((r) => document.addEventListener("banneret:ready", r, { once: true }));
    return { same: first === second && second === third, clash, text: document.body.textContent };
  });
  assert.equal(out.same, true, "a second definition reuses the first");
  assert.equal(out.clash, "NotSupportedError");
  assert.equal(out.text, "B", "the latest configuration is used");
  assert.deepEqual(problems, []);
  await page.close();
});
