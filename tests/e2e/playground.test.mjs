// The playground page (playground.html) end to end in headless Chromium, under the server's CSP: the
// worker downloads the real model with a byte-accurate progress bar, loads it
// as the bytes arrive, streams a completion token by token, stops on
// request, and nothing is reported as wrong.
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
  const response = await page.goto(`${server.url}playground.html`);
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

async function loadDemoModel(page) {
  await page.click("#load");
  await page.waitForSelector("body[data-state=ready], body[data-state=error]", { timeout: 180_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "ready", await page.textContent("#status"));
}

test("the real model downloads byte-accurately and streams a completion", async () => {
  const { page, problems } = await openDemo();
  await loadDemoModel(page);

  const bar = await page.$eval("#progress", (p) => ({ value: p.value, max: p.max, ...p.dataset }));
  assert.equal(bar.max, MODEL_BYTES);
  assert.equal(bar.value, MODEL_BYTES);
  assert.equal(Number(bar.loaded), MODEL_BYTES);
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
  assert.match(await page.textContent("#kernels"), /^wasm /);

  // Stream: record the output's text after every change while generating.
  await page.evaluate(() => {
    window.__chunks = [];
    new MutationObserver(() => window.__chunks.push(document.getElementById("output").textContent)).observe(
      document.getElementById("output"),
      { childList: true, characterData: true, subtree: true },
    );
  });
  await page.fill("#temperature", "0");
  await page.fill("#max-new-tokens", "40");
  await page.click("#generate");
  await page.waitForSelector("body[data-state=done], body[data-state=error]", { timeout: 120_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "done", await page.textContent("#gen-stats"));
  const text = await page.textContent("#output");
  assert.ok(text.trim().length > 10, `completion: ${JSON.stringify(text)}`);
  const chunks = await page.evaluate(() => window.__chunks);
  const partial = chunks.filter((c) => c.length > 0 && c.length < text.length);
  assert.ok(partial.length >= 3, `the text arrived in ${partial.length} partial steps, not streamed`);
  for (const c of partial) assert.ok(text.startsWith(c), `streamed text ${JSON.stringify(c)} is a prefix of the result`);
  assert.match(await page.textContent("#gen-stats"), /prompt tokens; \d+ generated \((eos|length|stop)\)/);
  // Greedy decoding is deterministic: the same request gives the same text.
  await page.click("#generate");
  await page.waitForSelector("body[data-state=done]", { timeout: 120_000 });
  assert.equal(await page.textContent("#output"), text);

  problems.push(...(await page.evaluate(() => window.__cspViolations)).map((v) => `csp: ${v}`));
  assert.deepEqual(problems, []);
  await page.close();
});

test("Stop cancels a generation between tokens and the next one works", async () => {
  const { page, problems } = await openDemo();
  await loadDemoModel(page);
  await page.fill("#max-new-tokens", "400");
  await page.fill("#message", "Write a long story about a mountain hike, with many details.");
  await page.click("#generate");
  await page.waitForFunction(() => document.getElementById("output").textContent.length > 0, null, { timeout: 60_000 });
  await page.click("#stop");
  await page.waitForSelector("body[data-state=stopped], body[data-state=done], body[data-state=error]", { timeout: 30_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "stopped", await page.textContent("#gen-stats"));
  assert.equal(await page.textContent("#gen-stats"), "Stopped.");
  await page.fill("#max-new-tokens", "8");
  await page.click("#generate");
  await page.waitForSelector("body[data-state=done], body[data-state=error]", { timeout: 60_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "done", await page.textContent("#gen-stats"));
  assert.ok((await page.textContent("#output")).length > 0);
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
      await client.request(Kind.inspectModel, { bytes: bytes.buffer }, { transfer: [bytes.buffer] });
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
  assert.match(await page.textContent("#status"), /^download_failed: GET http:\/\/.*\/models\/.*HTTP 404/);
  assert.equal(await page.getAttribute("#status", "data-state"), "error");
  await page.close();
});
