// Launches Debian's Chromium for tests and the benchmark with the project's
// one list of browser flags: webdriver.json at the repository root (also read
// by wasm-bindgen-test's runner). Never downloads a browser.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { ROOT } from "./paths.mjs";

const webdriver = JSON.parse(readFileSync(new URL("webdriver.json", ROOT), "utf8"));
const options = webdriver["goog:chromeOptions"];

export const CHROMIUM = process.env.CHROMIUM ?? options.binary;
// --headless, --no-sandbox (root), and no background networking: without them
// Chromium hangs or floods this closed network with refused connections.
export const CHROMIUM_FLAGS = Object.freeze([...options.args]);

// Playwright gives every launch a fresh, empty --user-data-dir of its own.
export function launchChromium({ args = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...args],
    timeout: 60_000,
  });
}

// Collects everything a page reports as wrong: console errors, uncaught
// exceptions, failed requests and CSP violations (also those in workers).
export function watchPage(page) {
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText ?? "failed";
    if (why !== "net::ERR_ABORTED") problems.push(`requestfailed: ${r.url()} ${why}`);
  });
  page.on("worker", (w) => w.on("console", (m) => m.type() === "error" && problems.push(`worker console: ${m.text()}`)));
  return problems;
}
