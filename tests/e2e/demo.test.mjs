// The demo page end to end in headless Chromium, under the server's CSP: the
// real model downloads with a byte-accurate progress bar, is transferred to
// the worker and inspected there, and nothing is reported as wrong.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath } from "./lib/paths.mjs";

const MODEL = modelPath();
const MODEL_BYTES = statSync(MODEL).size;
let server, browser;

before(async () => {
  server = await startServer({ modelFile: MODEL });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function openDemo() {
  const page = await browser.newPage();
  const problems = watchPage(page);
  // Record every progress update and every CSP violation from the first script on.
  await page.addInitScript(() => {
    window.__progress = [];
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.target.id === "progress" && r.attributeName === "data-loaded") {
          window.__progress.push([Number(r.target.dataset.loaded), Number(r.target.dataset.total)]);
        }
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-loaded"] });
  });
  const response = await page.goto(server.url);
  assert.equal(response.status(), 200);
  await page.waitForSelector("body[data-state=idle]", { timeout: 30_000 });
  return { page, problems, response };
}

test("page loads the wasm in its worker under a strict CSP", async () => {
  const { page, problems, response } = await openDemo();
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(await page.textContent("#engine-version"), /^banneret \d+\.\d+\.\d+ /);
  problems.push(...(await page.evaluate(() => window.__cspViolations)).map((v) => `csp: ${v}`));
  assert.deepEqual(problems, []);
  // The policy is enforced, not just sent: an injected inline script does not
  // run (this logs a CSP error, so it comes after the check above).
  const inline = await page.evaluate(async () => {
    const script = document.createElement("script");
    script.textContent = "window.__inlineRan = true";
    document.head.append(script);
    await new Promise((r) => setTimeout(r, 50));
    return { ran: window.__inlineRan === true, violations: window.__cspViolations };
  });
  assert.equal(inline.ran, false);
  assert.ok(inline.violations.some((v) => v.startsWith("script-src")), JSON.stringify(inline.violations));
  await page.close();
});

test("the real model downloads byte-accurately and is inspected in the worker", async () => {
  const { page, problems } = await openDemo();
  await page.click("#load");
  await page.waitForSelector("body[data-state=ready], body[data-state=error]", { timeout: 180_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "ready", await page.textContent("#status"));

  const bar = await page.$eval("#progress", (p) => ({ value: p.value, max: p.max, ...p.dataset }));
  assert.equal(bar.max, MODEL_BYTES);
  assert.equal(bar.value, MODEL_BYTES);
  assert.equal(Number(bar.loaded), MODEL_BYTES);
  assert.equal(bar.transferred, "true", "the model's ArrayBuffer is transferred to the worker, not copied");
  assert.equal(await page.textContent("#progress-text"), `${MODEL_BYTES.toLocaleString("en-US")} of ${MODEL_BYTES.toLocaleString("en-US")} bytes`);

  const steps = await page.evaluate(() => window.__progress);
  assert.ok(steps.length > 2, `progress updated only ${steps.length} times`);
  assert.deepEqual(steps[0], [0, MODEL_BYTES]);
  assert.deepEqual(steps.at(-1), [MODEL_BYTES, MODEL_BYTES]);
  for (let i = 1; i < steps.length; i++) {
    assert.ok(steps[i][0] >= steps[i - 1][0], `progress went back at update ${i}`);
    assert.equal(steps[i][1], MODEL_BYTES);
  }

  assert.equal(await page.textContent("#architecture"), "llama");
  assert.equal(await page.textContent("#gguf-version"), "3");
  assert.ok(Number(await page.textContent("#tensor-count")) > 0);
  const keys = await page.$$eval("#keys li", (lis) => lis.map((li) => li.textContent));
  for (const key of ["general.architecture", "tokenizer.ggml.tokens", "tokenizer.chat_template", "llama.block_count"]) {
    assert.ok(keys.includes(key), `metadata key ${key} is listed`);
  }
  problems.push(...(await page.evaluate(() => window.__cspViolations)).map((v) => `csp: ${v}`));
  assert.deepEqual(problems, []);
  await page.close();
});

test("errors from the wasm reach the page as Errors named by their code", async () => {
  const { page, problems } = await openDemo();
  const outcome = await page.evaluate(async () => {
    const { WorkerClient, Kind } = await import("./client.js");
    const client = new WorkerClient();
    const bytes = new TextEncoder().encode("PK\u0003\u0004 a zip file, not a model");
    try {
      await client.request(Kind.inspectModel, { bytes: bytes.buffer }, [bytes.buffer]);
      return { thrown: false };
    } catch (e) {
      // The worker keeps serving after an error.
      const { version } = await client.request(Kind.version);
      return { thrown: e instanceof Error, name: e.name, message: e.message, version };
    } finally {
      client.terminate();
    }
  });
  assert.equal(outcome.thrown, true);
  assert.equal(outcome.name, "invalid_model");
  assert.match(outcome.message, /not a GGUF file/);
  assert.match(outcome.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a model URL that 404s is reported on the page, not thrown away", async () => {
  const { page } = await openDemo();
  await page.route(`**/models/${encodeURIComponent(basename(MODEL))}`, (route) => route.fulfill({ status: 404, body: "no" }));
  await page.click("#load");
  await page.waitForSelector("body[data-state=error]", { timeout: 30_000 });
  assert.match(await page.textContent("#status"), /^download_failed: GET models\/.*HTTP 404/);
  assert.equal(await page.getAttribute("#status", "data-state"), "error");
  await page.close();
});
