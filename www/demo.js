// The Northwind storefront demo (index.html): a shop page whose hero banner,
// "picked for you" blurb and newsletter subject line are <banneret-slot>s,
// with the on-device profile collector wired to the visitor's clicks and
// searches, and a panel showing what the page knows, a consent switch, a
// fixture-profile switch, "forget me", and the model's download progress.
// Everything taken from the catalog, the profile or the model is put in
// with textContent; nothing the visitor does is sent anywhere.
import { Banneret, createProfile, defineSlot } from "./banneret.js";

const STORE = "stores/northwind";
// The fixture profiles the "Browse as" switch offers, with their labels.
const VISITORS = [
  ["trail-runner", "Trail runner (mobile, early morning)"],
  ["cart-abandoner", "Left a tent in the cart"],
  ["gift-shopper", "Shopping for a gift"],
  ["winter-campaign-newcomer", "New, from the winter campaign"],
  ["cold-start", "First visit, nothing known"],
  ["no-consent", "Said no to personalization"],
  ["injection", "Hostile profile (injection test)"],
];
// Product art by SKU family (NW-XX-nnn).
const ART = { TR: "shoe", RD: "shoe", JK: "jacket", DN: "jacket", TN: "tent", SB: "sleeping-bag", PK: "pack", YG: "mat", KB: "kettlebell", BT: "bottle", HL: "lamp", GC: "gift" };
// Signals arrive with every click; copy is rewritten once they settle.
const REFRESH_AFTER_MS = 1500;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const json = async (path) => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return response.json();
};

let catalog;
let profile;
let slots;

const money = (n) => new Intl.NumberFormat("en-US", { style: "currency", currency: catalog.currency || "USD" }).format(n);
const product = (sku) => catalog.products.find((p) => p.sku === sku);
const art = (sku) => `img/${ART[String(sku).split("-")[1]] ?? "gift"}.svg`;

function priceLine(p) {
  const line = el("p", { className: "price" });
  if (p.sale_price != null) line.append(el("span", { className: "now", textContent: money(p.sale_price) }), " ", el("s", { className: "was", textContent: money(p.price) }));
  else line.append(el("span", { className: "now", textContent: money(p.price) }));
  return line;
}

// ---- the product grid ----

function renderGrid(filter = null) {
  const list = catalog.products.filter(filter ?? (() => true));
  $("grid").replaceChildren(...list.map((p) => {
    const card = el("li", { className: "card" });
    card.dataset.sku = p.sku;
    const look = el("details", { className: "quick" },
      el("summary", { textContent: "Quick look" }),
      el("ul", { className: "features" }, ...p.features.map((f) => el("li", { textContent: f }))));
    look.addEventListener("toggle", () => look.open && profile.recordView(p.sku));
    const add = el("button", { type: "button", className: "add", textContent: "Add to cart" });
    add.addEventListener("click", () => {
      profile.recordCart(p.sku);
      cartCount += 1;
      $("cart-count").textContent = String(cartCount);
      add.textContent = "Added";
    });
    card.append(
      el("img", { src: art(p.sku), alt: "", width: 160, height: 120, className: "card-art" }),
      p.sale_price != null ? el("span", { className: "badge", textContent: "Sale" }) : "",
      el("p", { className: "category", textContent: p.category }),
      el("h3", { textContent: p.name }),
      priceLine(p),
      look,
      add,
    );
    return card;
  }));
  return list.length;
}
let cartCount = 0;

function search(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (p) => words.every((w) => [p.name, p.category, ...p.tags, ...p.features].some((t) => t.toLowerCase().includes(w)));
  const n = renderGrid(words.length ? matches : null);
  $("filter-status").textContent = words.length ? `${n} ${n === 1 ? "product matches" : "products match"} “${query}”` : "";
}

// ---- the privacy panel ----

function row(label, values) {
  const dd = el("dd");
  if (values.length === 0) dd.append(el("span", { className: "none", textContent: "nothing" }));
  else dd.append(el("ul", {}, ...values.map((v) => el("li", { textContent: v }))));
  return [el("dt", { textContent: label }), dd];
}

function renderPanel() {
  const stored = profile.export();
  $("consent").checked = profile.consent;
  $("raw").textContent = stored ? JSON.stringify(stored, null, 2) : "(nothing)";
  if (!stored) {
    $("knows").replaceChildren(el("p", { className: "nothing", textContent: "Nothing is stored. Every visitor sees the same copy." }));
    return;
  }
  const p = profile.get();
  const name = (sku) => product(sku)?.name ?? sku;
  const ref = p.referrer;
  const list = el("dl");
  list.append(
    ...row("Interests", (p.interests ?? []).map((i) => `${i.topic} (${Math.round((i.weight ?? 0) * 100)}%)`)),
    ...row("Looked at", (p.viewed ?? []).map((v) => `${name(v.sku)} × ${v.count}`)),
    ...row("In the cart", (p.cart ?? []).map((c) => `${name(c.sku)} × ${c.qty}`)),
    ...row("Bought", (p.purchased ?? []).map((b) => name(b.sku))),
    ...row("Searched for", p.searches ?? []),
    ...row("Came from", ref ? [[ref.source, ref.medium, ref.campaign].filter(Boolean).join(" / ")] : []),
    ...row("Visits", p.visits?.count ? [`${p.visits.count} (first ${p.visits.first ?? "?"})`] : []),
    ...row("Right now", [p.context?.local_time?.replace("T", " "), p.context?.device, p.locale].filter(Boolean)),
  );
  $("knows").replaceChildren(list);
}

// ---- slots: "why you see this" ----

function explain(slot, result) {
  const body = document.querySelector(`[data-why-for="${slot.id}"] .why-body`);
  if (!body) return;
  const personal = (result.plan.signals ?? []).filter((s) => s.personal);
  body.replaceChildren(
    el("p", { textContent: slot.why ?? "" }),
    personal.length
      ? el("ul", {}, ...personal.slice(0, 4).map((s) => el("li", { textContent: s.detail })))
      : el("p", { className: "none", textContent: "No personal signal was used." }),
    el("p", { className: "how", textContent: result.source === "model" ? "Written by the model in this browser; every fact checked against the catalog." : "Assembled from catalog facts in this browser (no model draft passed the checks)." }),
  );
}

function resetWhy(slot) {
  const body = document.querySelector(`[data-why-for="${slot.id}"] .why-body`);
  body?.replaceChildren(el("p", { textContent: "The store's standard copy is showing while this device writes." }));
}

// The spotlight card follows the product the blurb was written for.
function showSpotlight(sku) {
  const p = product(sku);
  if (!p) return;
  const card = $("spotlight");
  card.dataset.sku = p.sku;
  card.querySelector(".spotlight-art").src = art(p.sku);
  card.querySelector(".spotlight-name").textContent = p.name;
  card.querySelector(".price").replaceWith(priceLine(p));
}

let refreshTimer = null;
function refreshSlots({ keep }) {
  clearTimeout(refreshTimer);
  refreshTimer = null;
  for (const slot of slots) {
    slot.refresh({ keep });
    if (!keep) resetWhy(slot);
  }
  if (!keep) showSpotlight(defaultPick);
}
let defaultPick;

// ---- the model ----

function showProgress(e) {
  const bar = $("model-progress");
  bar.max = e.total || 1;
  bar.value = e.loaded;
  bar.dataset.loaded = String(e.loaded);
  bar.dataset.total = String(e.total);
  const mb = (n) => (n / 1e6).toFixed(1);
  $("model-status").textContent = e.source === "cache"
    ? `Reading from this device: ${mb(e.loaded)} of ${mb(e.total)} MB`
    : `Downloading once: ${mb(e.loaded)} of ${mb(e.total)} MB`;
}

async function startWriter(model) {
  const t0 = performance.now();
  const availability = await Banneret.availability({ model });
  document.body.dataset.availability = availability;
  if (availability === "unavailable") throw Object.assign(new Error("this browser cannot run the writing model"), { name: "NotSupportedError" });
  $("model-status").textContent = availability === "available" ? "Reading the model from this device…" : "Downloading the model once; the store's own copy shows meanwhile.";
  const [brand] = await Promise.all([json(`${STORE}/brand.json`)]);
  const writer = await Banneret.create({
    model, catalog, brand,
    monitor: (m) => m.addEventListener("downloadprogress", showProgress),
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const from = writer.model.source === "cache" ? "read from this device" : "downloaded";
  const kept = writer.model.cache?.status === "stored" || writer.model.source === "cache" ? "kept on this device for next time" : "kept in memory only (this browser refused storage)";
  $("model-status").textContent = `Ready: ${from} in ${seconds} s, ${kept}.`;
  document.body.dataset.model = writer.model.source;
  document.body.dataset.state = "ready";
  return writer;
}

async function main() {
  catalog = await json(`${STORE}/catalog.json`);
  const manifest = await json("models.json");
  const entry = manifest.models.find((m) => m.file === manifest.default);
  const model = { url: `models/${encodeURIComponent(entry.file)}`, sha256: entry.sha256, bytes: entry.bytes };
  $("model-name").textContent = `${entry.title}, ${(entry.bytes / 1e6).toFixed(1)} MB`;
  defaultPick = $("spotlight").dataset.sku;

  profile = createProfile({ catalog });
  for (const [id, label] of VISITORS) $("visitor").append(el("option", { value: id, textContent: label }));
  renderGrid();
  renderPanel();

  const writer = startWriter(model);
  writer.catch((e) => {
    document.body.dataset.state = "error";
    $("model-status").textContent = `The writing model is not available (${e.name}: ${e.message}); the store's own copy stays.`;
  });
  defineSlot({ writer, profile });
  slots = [...document.querySelectorAll("banneret-slot")];
  for (const slot of slots) {
    slot.addEventListener("banneret:ready", ({ detail }) => {
      explain(slot, detail.result);
      if (slot.id === "blurb") showSpotlight(detail.result.plan.featured?.[0]);
    });
    slot.addEventListener("banneret:error", ({ detail }) => {
      const body = document.querySelector(`[data-why-for="${slot.id}"] .why-body`);
      body?.replaceChildren(el("p", { textContent: `The store's standard copy is showing (${detail.error?.name ?? "Error"}).` }));
    });
  }

  // Privacy-relevant changes show the fallback at once; new signals keep the
  // current copy until the rewrite is ready.
  profile.addEventListener("change", () => {
    renderPanel();
    if (refreshTimer === null) refreshTimer = setTimeout(() => refreshSlots({ keep: true }), REFRESH_AFTER_MS);
  });
  $("consent").addEventListener("change", (e) => {
    $("visitor").value = "";
    profile.setConsent(e.target.checked);
    refreshSlots({ keep: false });
  });
  $("visitor").addEventListener("change", async (e) => {
    const id = e.target.value;
    if (id) profile.import(await json(`${STORE}/profiles/${id}.json`));
    else {
      profile.forget();
      profile.setConsent(true);
    }
    refreshSlots({ keep: false });
  });
  $("forget").addEventListener("click", () => {
    $("visitor").value = "";
    profile.forget();
    refreshSlots({ keep: false });
  });
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("search-input").value;
    profile.recordSearch(q);
    search(q);
  });
  for (const link of document.querySelectorAll("nav [data-category]")) {
    link.addEventListener("click", () => {
      const n = renderGrid((p) => p.category === link.dataset.category);
      $("filter-status").textContent = `${link.textContent}: ${n} products`;
    });
  }
  $("signup").addEventListener("submit", (e) => {
    e.preventDefault();
    $("signup-status").textContent = "This is a demo store: nothing was sent.";
  });
  document.body.dataset.booted = "true";
}

main().catch((e) => {
  document.body.dataset.state = "error";
  $("model-status").textContent = `${e.name}: ${e.message}`;
});
