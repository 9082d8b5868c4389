import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { modelPath } from "./lib/paths.mjs";
const server = await startServer({ modelFile: modelPath() });
const browser = await launchChromium();
const ctx = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
const page = await ctx.newPage();
const problems = watchPage(page);
page.on("console", (m) => console.log("console:", m.text()));
const t0 = Date.now();
await page.goto(server.url);
await page.waitForSelector("body[data-booted]");
console.log("booted", (Date.now() - t0) / 1000);
await page.waitForSelector("body[data-state=ready]");
console.log("model ready", (Date.now() - t0) / 1000);
await page.screenshot({ path: "/tmp/scratch/cold.png", fullPage: true });
await page.check("#consent");
await page.selectOption("#visitor", "trail-runner");
await page.evaluate(() => { window.__order = []; for (const s of document.querySelectorAll("banneret-slot")) s.addEventListener("banneret:ready", () => window.__order.push([s.id, Math.round(performance.now())])); });
for (const id of ["hero", "blurb", "subject"]) {
  await page.waitForSelector(`#${id}[data-state=ready], #${id}[data-state=error]`, { timeout: 240_000 });
  console.log(id, (Date.now() - t0) / 1000, await page.$eval(`#${id}`, (e) => [e.dataset.state, e.result?.source, e.result?.attempts, JSON.stringify(e.result?.timings_ms), e.result?.rejected.length, e.textContent.trim().replace(/\s+/g, " ")]));
}
await page.screenshot({ path: "/tmp/scratch/personal.png", fullPage: true });
console.log(problems, await page.evaluate(() => window.__order));
await browser.close(); await server.close();
