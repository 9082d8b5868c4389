// Driving the storefront demo (www/index.html) from tests: opening it with a
// recorder of every slot change, waiting for the slots, reading their copy,
// and saving screenshots.
import { mkdirSync } from "node:fs";
import { join, isAbsolute } from "node:path";
import { ROOT_DIR } from "./paths.mjs";
import { watchPage } from "./chromium.mjs";

export const SLOTS = ["hero", "blurb", "subject"];
// Writes take seconds each and the three slots queue behind one another.
export const SLOT_TIMEOUT = 300_000;

// Where screenshots go: $BANNERET_SCREENSHOTS (relative to the repository
// root), default tests/e2e/artifacts/screenshots. `make screenshots`-style
// refreshes of docs/screenshots/ set it to docs/screenshots.
export const SCREENSHOT_DIR = (() => {
  const dir = process.env.BANNERET_SCREENSHOTS ?? "tests/e2e/artifacts/screenshots";
  return isAbsolute(dir) ? dir : join(ROOT_DIR, dir);
})();

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header stays on top
  await page.screenshot({ path, fullPage: true });
  return path;
}

// Records, from the first parsed byte: each slot's fallback texts, every
// change of a slot's state or field text, elements added inside slots,
// banneret:ready/error events, CSP violations and dialogs.
function recorder() {
  window.__rec = { fallback: {}, changes: [], added: [], events: [], csp: [] };
  document.addEventListener("securitypolicyviolation", (e) => window.__rec.csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  const fields = (slot) => Object.fromEntries([...slot.querySelectorAll("[data-field]")].map((f) => [f.dataset.field, f.textContent]));
  const seen = new Map();
  let parsed = false; // the parser's own insertions are the fallback
  const snapshot = (slot) => {
    const now = JSON.stringify([slot.dataset.state ?? null, fields(slot)]);
    if (seen.get(slot.id) === now) return;
    seen.set(slot.id, now);
    window.__rec.changes.push({ slot: slot.id, state: slot.dataset.state ?? null, fields: fields(slot), at: performance.now() });
  };
  new MutationObserver((records) => {
    // While the parser inserts the fallback (it may yield between a slot's
    // fields on a slow machine), nothing is recorded: the first snapshot is
    // the whole fallback, taken at DOMContentLoaded.
    if (!parsed) return;
    for (const r of records) {
      const slot = (r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest("banneret-slot");
      if (!slot?.id) continue;
      for (const n of r.addedNodes ?? []) if (n.nodeType === 1 && n !== slot) window.__rec.added.push(`${slot.id}:${n.tagName.toLowerCase()}${n.hasAttribute("data-preview") ? "[data-preview]" : n.hasAttribute("data-field") ? "[data-field]" : ""}`);
      snapshot(slot);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-state"] });
  document.addEventListener("DOMContentLoaded", () => {
    parsed = true;
    for (const slot of document.querySelectorAll("banneret-slot")) {
      window.__rec.fallback[slot.id] = fields(slot); // no copy can have arrived yet
      snapshot(slot);
    }
  });
  for (const type of ["banneret:ready", "banneret:error"]) {
    document.addEventListener(type, (e) => window.__rec.events.push({ type, slot: e.target.id, error: e.detail.error ? `${e.detail.error.name}/${e.detail.error.code}` : null, at: performance.now() }));
  }
}

// Opens the storefront (`query` is appended to its URL) in a new page of
// `context`; resolves once its script has run.
export async function openStore(context, server, { query = "", beforeGoto } = {}) {
  const page = await context.newPage();
  const problems = watchPage(page);
  const dialogs = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await page.addInitScript(recorder);
  await beforeGoto?.(page);
  const response = await page.goto(`${server.url}${query}`);
  if (response.status() !== 200) throw new Error(`storefront: HTTP ${response.status()}`);
  await page.waitForSelector("body[data-booted]", { timeout: 30_000 });
  return { page, problems, dialogs, response };
}

// The number of recorded changes so far (a mark to read changes after).
export const mark = (page) => page.evaluate(() => window.__rec.changes.length);
export const changesSince = (page, from) => page.evaluate((from) => window.__rec.changes.slice(from), from);
export const record = (page) => page.evaluate(() => window.__rec);

// Waits until every slot is ready (or one failed) after `from` changes.
export async function slotsReady(page, from = 0) {
  await page.waitForFunction(
    ({ ids, from }) => {
      const after = window.__rec.changes.slice(from);
      return ids.every((id) => {
        const el = document.getElementById(id);
        return (el.dataset.state === "ready" || el.dataset.state === "error") && after.some((c) => c.slot === id);
      });
    },
    { ids: SLOTS, from },
    { timeout: SLOT_TIMEOUT, polling: 250 },
  );
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const el = document.getElementById(id);
    return [id, { state: el.dataset.state, result: el.result, why: el.why, text: el.textContent.replace(/\s+/g, " ").trim() }];
  })), SLOTS);
}
