// <banneret-slot kind goal tone [locale] [variants] [stream]>fallback</banneret-slot>:
// a thin custom element over a writer. It shows its fallback children at
// once, asks the writer for copy, and swaps each field's text in when the
// checked result arrives: into the descendant marked data-field="<field>"
// (headline, subline, cta, subject, blurb, post, ...), or, when it has none,
// into plain <span data-field> children that replace the fallback.
// Invariants: text reaches the page only through textContent; raw model text
// (stream) goes only to a <span data-preview> the slot appends and removes
// when the result arrives; a removed slot aborts its request; on any error the
// fallback stays. Registration never clashes: defineSlot() reuses a banneret
// definition of the same tag and takes a tag name of the page's choosing.

const MARK = Symbol.for("banneret.slot");
const CONFIGURE = Symbol.for("banneret.slot.configure");
const OBSERVED = ["kind", "goal", "tone", "locale", "variants", "stream"];
const LABEL = /^\s*(headline|subline|cta|subject|blurb|post|description|[a-z ]{2,20})\s*\d?\s*:\s*/i;

// Raw model text, made readable for a preview: one line per field, labels dropped.
function previewText(draft) {
  return draft
    .split("\n")
    .map((line) => line.replace(LABEL, "").trim())
    .filter(Boolean)
    .join(" · ");
}

// Defines the element (once per tag) and returns its class. `writer` is a
// writer or a promise of one (Banneret.create()); `profile` is what
// requests are written for: a collector (profile.js), a function or an
// object. Called again for the same tag, it updates the configuration.
export function defineSlot({ tagName = "banneret-slot", writer, profile, registry = globalThis.customElements } = {}) {
  const existing = registry.get(tagName);
  if (existing) {
    if (!existing[MARK]) {
      throw new DOMException(`<${tagName}> is already defined by another script; pass defineSlot({ tagName }) another name`, "NotSupportedError");
    }
    existing[CONFIGURE]({ writer, profile });
    return existing;
  }
  const config = { writer, profile };

  class BanneretSlot extends HTMLElement {
    static [MARK] = true;
    static observedAttributes = OBSERVED;

    static [CONFIGURE](next) {
      if (next.writer !== undefined) config.writer = next.writer;
      if (next.profile !== undefined) config.profile = next.profile;
    }

    // Every connected slot of this tag, to refresh them together.
    static refreshAll(options) {
      for (const el of document.querySelectorAll(tagName)) el.refresh(options);
    }

    #controller = null;
    #fallbackText = new Map(); // [data-field] element → its fallback text
    #fallbackNodes = null; // the children, when the slot had no [data-field]
    #result = null;
    #scheduled = false;
    #started = false;

    // The last checked result (null while the fallback shows).
    get result() {
      return this.#result;
    }

    // One sentence for a "why you see this" panel, from the plan.
    get why() {
      return this.#result?.plan?.why ?? null;
    }

    get plan() {
      return this.#result?.plan ?? null;
    }

    connectedCallback() {
      // Marks instances, so nested slots keep to their own fields.
      this.setAttribute("data-banneret-slot", "");
      if (!this.#started) this.#rememberFallback();
      this.#started = true;
      if (!this.dataset.state) this.dataset.state = "fallback";
      this.#schedule();
    }

    disconnectedCallback() {
      this.#abort();
    }

    attributeChangedCallback(name, before, after) {
      if (before !== after && this.#started && this.isConnected && name !== "stream") this.refresh();
    }

    // Writes again (after the profile changed). `keep: true` leaves the
    // current copy up until the new one is ready; otherwise the fallback
    // shows at once (use it when consent was withdrawn).
    refresh({ keep = false } = {}) {
      this.#abort();
      if (!keep) this.#showFallback();
      this.#schedule();
    }

    #schedule() {
      if (this.#scheduled) return;
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        if (this.isConnected) this.#write();
      });
    }

    #abort() {
      this.#controller?.abort(new DOMException("The slot was removed or refreshed.", "AbortError"));
      this.#controller = null;
      this.#preview(null);
    }

    #rememberFallback() {
      const targets = this.#targets();
      if (targets.length > 0) for (const el of targets) this.#fallbackText.set(el, el.textContent);
      else this.#fallbackNodes = [...this.childNodes].map((n) => n.cloneNode(true));
    }

    #targets() {
      return [...this.querySelectorAll("[data-field]")].filter((el) => el.closest("[data-banneret-slot]") === this);
    }

    #showFallback() {
      this.#result = null;
      if (this.#fallbackNodes) this.replaceChildren(...this.#fallbackNodes.map((n) => n.cloneNode(true)));
      else for (const [el, text] of this.#fallbackText) el.textContent = text;
      this.dataset.state = "fallback";
      delete this.dataset.source;
      delete this.dataset.personalized;
    }

    #request() {
      const r = { kind: this.getAttribute("kind") || "banner" };
      for (const name of ["goal", "tone", "locale"]) if (this.hasAttribute(name)) r[name] = this.getAttribute(name);
      if (this.hasAttribute("variants")) r.num_return_sequences = Number(this.getAttribute("variants"));
      const profile = typeof config.profile === "function" ? config.profile(this) : typeof config.profile?.get === "function" ? config.profile.get() : config.profile;
      if (profile) r.profile = profile;
      return r;
    }

    async #write() {
      const controller = new AbortController();
      this.#controller = controller;
      const { signal } = controller;
      this.setAttribute("aria-busy", "true");
      try {
        if (!config.writer) throw new DOMException("no writer: call defineSlot({ writer })", "InvalidStateError");
        const writer = await config.writer;
        signal.throwIfAborted();
        this.dataset.state = "writing";
        const request = this.#request();
        let result;
        if (this.hasAttribute("stream")) {
          for await (const chunk of writer.writeStreaming(request, { signal })) {
            if (chunk.type === "preview" && chunk.variant === 0) this.#preview(chunk.draft);
            else if (chunk.type === "attempt") this.#preview("");
            else if (chunk.type === "result") result = chunk.result;
          }
        } else {
          result = await writer.write(request, { signal });
        }
        signal.throwIfAborted();
        this.#preview(null);
        this.#show(result);
      } catch (error) {
        if (signal.aborted) return;
        this.#preview(null);
        this.dataset.state = "error";
        this.dispatchEvent(new CustomEvent("banneret:error", { bubbles: true, composed: true, detail: { error } }));
      } finally {
        if (this.#controller === controller) {
          this.#controller = null;
          this.removeAttribute("aria-busy");
        }
      }
    }

    #show(result) {
      const copy = result?.copy ?? {};
      const targets = this.#targets();
      if (targets.length > 0) {
        for (const el of targets) {
          const text = copy[el.dataset.field];
          if (typeof text === "string") el.textContent = text;
        }
      } else {
        const spans = Object.entries(copy).map(([field, text]) => {
          const span = document.createElement("span");
          span.dataset.field = field;
          span.textContent = String(text);
          return span;
        });
        this.replaceChildren(...spans);
      }
      this.#result = result;
      this.dataset.state = "ready";
      this.dataset.source = result.source;
      this.dataset.personalized = String(result.personalized === true);
      this.dispatchEvent(new CustomEvent("banneret:ready", {
        bubbles: true,
        composed: true,
        detail: { copy, why: this.why, personalized: result.personalized === true, source: result.source, result },
      }));
    }

    // The raw draft of variant 0 in this slot's own <span data-preview>;
    // null removes it.
    #preview(draft) {
      let el = [...this.querySelectorAll("[data-preview]")].find((p) => p.closest("[data-banneret-slot]") === this);
      if (draft === null) {
        el?.remove();
        return;
      }
      if (!el) {
        el = document.createElement("span");
        el.dataset.preview = "";
        el.setAttribute("aria-hidden", "true");
        this.append(el);
      }
      this.dataset.state = "streaming";
      el.textContent = previewText(draft);
    }
  }
  registry.define(tagName, BanneretSlot);
  return BanneretSlot;
}
