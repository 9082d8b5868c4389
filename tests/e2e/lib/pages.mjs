// Test pages on the test server's origin: /__test/* is answered from
// tests/e2e/lib/page/ by a route, under the server's own Content-Security-
// Policy, so page code can import /banneret.js like any site would.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { watchPage } from "./chromium.mjs";

const PAGE_DIR = new URL("./page/", import.meta.url);
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

export async function serverCsp(server) {
  const response = await fetch(server.url);
  await response.arrayBuffer();
  return response.headers.get("content-security-policy");
}

// A new page in `context` showing /__test/blank.html; `problems` collects
// console errors, page errors, failed requests and CSP violations.
export async function blankPage(context, server) {
  const csp = await serverCsp(server);
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.route("**/__test/**", (route) => {
    const name = new URL(route.request().url()).pathname.replace(/^\/__test\//, "");
    const file = new URL(name, PAGE_DIR);
    if (!/^[\w.-]+$/.test(name)) return route.fulfill({ status: 404, body: "" });
    route.fulfill({ status: 200, headers: { "Content-Type": TYPES[extname(name)] ?? "text/plain", "Content-Security-Policy": csp }, body: readFileSync(file) });
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${server.url}__test/blank.html`);
  if (response.status() !== 200) throw new Error(`blank page: HTTP ${response.status()}`);
  return { page, problems };
}

// CSP violations seen by the page so far.
export const cspViolations = (page) => page.evaluate(() => window.__cspViolations ?? []);
