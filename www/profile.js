// The on-device visitor profile: a small collector a site calls as the
// visitor browses (recordView, recordCart, recordSearch, ...) that keeps a
// profile in the fixture format (www/stores/*/profiles/*.json) in
// localStorage. Invariants: nothing is stored before setConsent(true) (calls
// before it are ignored, and get() returns a no-consent profile, so copy is
// generic); forget() — and setConsent(false) — erase everything this module
// stored; export() returns exactly what is stored; lists are capped and free
// text is cut and stripped of control characters. The profile is handed to
// the worker as data and never sent over the network by this code.

export const STORAGE_KEY = "banneret.profile.v1";
// The `id` of a profile this collector built (imported fixtures keep theirs).
export const COLLECTED_ID = "on-device";

// Caps on what is kept (the most recent entries win).
export const LIMITS = Object.freeze({ viewed: 50, cart: 20, purchased: 50, searches: 20, text: 100, sku: 64 });

const UTM = Object.freeze({ utm_source: "source", utm_medium: "medium", utm_campaign: "campaign" });

const now = () => new Date();
const isoSeconds = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const localTime = (d) => `${day(d)}T${[d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":")}`;

// Trimmed, control characters removed, cut to LIMITS.text; "" when nothing is left.
function cleanText(value) {
  if (typeof value !== "string") return "";
  return [...value.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").replace(/\s+/g, " ").trim()].slice(0, LIMITS.text).join("");
}

// What the browser says about the moment and the device (read, not stored).
export function liveContext(win = globalThis) {
  const media = (q) => win.matchMedia?.(q).matches === true;
  const shortSide = Math.min(win.screen?.width ?? 1280, win.screen?.height ?? 800);
  const coarse = media("(pointer: coarse)");
  const device = coarse && shortSide < 600 ? "mobile" : coarse && shortSide < 1100 ? "tablet" : "desktop";
  return { local_time: localTime(now()), device, color_scheme: media("(prefers-color-scheme: dark)") ? "dark" : "light" };
}

function emptyProfile() {
  return {
    id: COLLECTED_ID,
    consent: { personalization: true, given: isoSeconds(now()) },
    interests: [],
    viewed: [],
    cart: [],
    purchased: [],
    searches: [],
    visits: { count: 0, first: null, last: null },
    referrer: null,
  };
}

export class ProfileCollector extends EventTarget {
  #storage;
  #key;
  #catalog;
  #location;
  #stripCampaign;
  #data = null;
  #storageError = null;

  // options: { catalog?: the store's catalog (SKUs are checked against it and
  // interests derived from its categories), storage?: a Storage (default
  // localStorage), key?: the storage key, stripCampaignFromUrl?: remove the
  // utm_* parameters from the address bar once read (default true) }.
  constructor({ catalog, storage, key = STORAGE_KEY, location = globalThis.location, stripCampaignFromUrl = true } = {}) {
    super();
    this.#catalog = catalog;
    this.#key = key;
    this.#location = location;
    this.#stripCampaign = stripCampaignFromUrl;
    try {
      this.#storage = storage ?? globalThis.localStorage ?? null;
    } catch {
      this.#storage = null; // localStorage access can throw (storage disabled)
    }
    this.#data = this.#read();
    if (this.#data) {
      this.#countVisit();
      this.captureCampaign();
      this.#write();
    }
  }

  get consent() {
    return this.#data !== null;
  }

  // Why storing failed (e.g. "QuotaExceededError"), or null. The profile then
  // lives in memory for this page only.
  get storageError() {
    return this.#storageError;
  }

  setConsent(given) {
    if (!given) return this.forget();
    if (this.#data) return;
    this.#data = emptyProfile();
    this.#countVisit();
    this.captureCampaign();
    this.#save();
  }

  // Erases everything this collector stored.
  forget() {
    this.#data = null;
    try {
      this.#storage?.removeItem(this.#key);
    } catch {
      // nothing was stored
    }
    this.#changed();
  }

  recordView(sku) {
    const s = this.#sku(sku);
    if (!s) return;
    const seen = this.#data.viewed.find((v) => v.sku === s);
    if (seen) {
      seen.count = Math.min(seen.count + 1, 10_000);
      seen.last = isoSeconds(now());
    } else {
      this.#data.viewed.push({ sku: s, count: 1, last: isoSeconds(now()) });
    }
    this.#data.viewed = newest(this.#data.viewed, "last", LIMITS.viewed);
    this.#save();
  }

  recordCart(sku, qty = 1) {
    const s = this.#sku(sku);
    if (!s) return;
    const n = Math.max(1, Math.min(99, Math.trunc(Number(qty)) || 1));
    const item = this.#data.cart.find((c) => c.sku === s);
    if (item) item.qty = Math.min(99, item.qty + n);
    else this.#data.cart.push({ sku: s, qty: n, added: isoSeconds(now()) });
    this.#data.cart = newest(this.#data.cart, "added", LIMITS.cart);
    this.#save();
  }

  removeFromCart(sku) {
    if (!this.#data) return;
    this.#data.cart = this.#data.cart.filter((c) => c.sku !== sku);
    this.#save();
  }

  recordPurchase(sku) {
    const s = this.#sku(sku);
    if (!s) return;
    this.#data.cart = this.#data.cart.filter((c) => c.sku !== s);
    this.#data.purchased = newest([...this.#data.purchased, { sku: s, date: day(now()) }], "date", LIMITS.purchased);
    this.#save();
  }

  recordSearch(query) {
    const text = cleanText(query);
    if (!this.#data || !text) return;
    this.#data.searches = [...this.#data.searches.filter((q) => q !== text), text].slice(-LIMITS.searches);
    this.#save();
  }

  // An interest the site knows directly (a newsletter topic the visitor
  // picked); weight 0..1.
  recordInterest(topic, weight = 1) {
    const t = cleanText(topic);
    if (!this.#data || !t) return;
    const w = Math.max(0, Math.min(1, Number(weight) || 0));
    this.#data.interests = [...this.#data.interests.filter((i) => i.topic !== t), { topic: t, weight: w }];
    this.#save();
  }

  // Reads utm_source / utm_medium / utm_campaign from `url` (default: the
  // page's address) into `referrer`; with stripCampaignFromUrl, removes them
  // from the address bar. Ignored without consent.
  captureCampaign(url = this.#location?.href) {
    if (!this.#data || !url) return;
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    const found = {};
    for (const [param, field] of Object.entries(UTM)) {
      const value = cleanText(parsed.searchParams.get(param) ?? "");
      if (value) found[field] = value;
    }
    if (Object.keys(found).length === 0) return;
    this.#data.referrer = { source: null, medium: null, campaign: null, ...found };
    if (this.#stripCampaign && url === this.#location?.href && globalThis.history?.replaceState) {
      for (const param of Object.keys(UTM)) parsed.searchParams.delete(param);
      try {
        history.replaceState(history.state, "", parsed.href);
      } catch {
        // a sandboxed frame may refuse; the values are read either way
      }
    }
    this.#save();
  }

  // Replaces the stored profile with one in the fixture format (the demo's
  // "visitor like this" switch). A fixture without consent erases everything.
  import(fixture) {
    if (!fixture || typeof fixture !== "object" || Array.isArray(fixture)) throw new TypeError("profile.import wants an object in the profile fixture format");
    if (fixture.consent?.personalization !== true) return this.forget();
    this.#data = { ...emptyProfile(), ...structuredClone(fixture) };
    this.#save();
  }

  // Exactly what is stored on this device (a copy), or null when nothing is.
  export() {
    return this.#data ? structuredClone(this.#data) : null;
  }

  // The profile to write for, in the fixture format: without consent only
  // { consent: { personalization: false }, locale }, so copy is generic.
  // `context` (local time, device class, colour scheme) is read now unless the
  // stored profile has one (an imported fixture).
  get() {
    const locale = this.#data?.locale ?? globalThis.navigator?.language ?? "en";
    if (!this.#data) return { consent: { personalization: false }, locale };
    const p = structuredClone(this.#data);
    p.locale = locale;
    p.context ??= liveContext();
    if (p.id === COLLECTED_ID) p.interests = this.#interests(p);
    return p;
  }

  // For a collected profile: stored interests, plus the catalog categories of
  // what was viewed, put in the cart or bought, weighted by how much (the
  // strongest is 1). An imported profile is used as it is.
  #interests(p) {
    const categories = new Map((this.#catalog?.products ?? []).map((x) => [x.sku, x.category]));
    const score = new Map();
    const add = (sku, n) => {
      const c = categories.get(sku);
      if (c) score.set(c, (score.get(c) ?? 0) + n);
    };
    for (const v of p.viewed ?? []) add(v.sku, v.count ?? 1);
    for (const c of p.cart ?? []) add(c.sku, 3 * (c.qty ?? 1));
    for (const b of p.purchased ?? []) add(b.sku, 2);
    const max = Math.max(0, ...score.values());
    const explicit = p.interests ?? [];
    const derived = [...score]
      .filter(([topic]) => !explicit.some((i) => i.topic === topic))
      .map(([topic, s]) => ({ topic, weight: Math.round((s / max) * 100) / 100 }));
    return [...explicit, ...derived].sort((a, b) => b.weight - a.weight);
  }

  #sku(sku) {
    if (!this.#data || typeof sku !== "string" || sku === "" || sku.length > LIMITS.sku) return null;
    if (this.#catalog && !this.#catalog.products?.some((p) => p.sku === sku)) return null;
    return sku;
  }

  // One visit per calendar day.
  #countVisit() {
    const today = day(now());
    const v = (this.#data.visits ??= { count: 0, first: null, last: null });
    if (v.last === today) return;
    v.count = Math.min((v.count ?? 0) + 1, 10_000);
    v.first ??= today;
    v.last = today;
  }

  #read() {
    try {
      const raw = this.#storage?.getItem(this.#key);
      const data = raw ? JSON.parse(raw) : null;
      return data && typeof data === "object" && data.consent?.personalization === true ? data : null;
    } catch {
      return null; // unreadable or not ours: treated as nothing stored
    }
  }

  #write() {
    try {
      this.#storage?.setItem(this.#key, JSON.stringify(this.#data));
      this.#storageError = null;
    } catch (e) {
      this.#storageError = e?.name ?? "Error";
    }
  }

  #save() {
    if (!this.#data) return;
    this.#write();
    this.#changed();
  }

  #changed() {
    this.dispatchEvent(new Event("change"));
  }
}

function newest(list, field, limit) {
  return [...list].sort((a, b) => String(a[field]).localeCompare(String(b[field]))).slice(-limit);
}

export function createProfile(options) {
  return new ProfileCollector(options);
}
