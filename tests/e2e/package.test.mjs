// The npm-style package (scripts/package.sh): every relative import among its
// modules resolves inside it; TypeScript accepts a strict page written
// against banneret.d.ts (and rejects a wrong one, so the check can fail); and
// a plain <script type="module"> page served from the package alone, no
// bundler, under the server's CSP, writes checked copy with the real model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, relative } from "node:path";
import { launchChromium, watchPage } from "./lib/chromium.mjs";
import { startServer } from "./lib/server.mjs";
import { ROOT_DIR, modelPath, defaultModel } from "./lib/paths.mjs";

const work = mkdtempSync(join(tmpdir(), "banneret-package-"));
const out = join(work, "npm");
let server, browser;

before(async () => {
  execFileSync("bash", [join(ROOT_DIR, "scripts/package.sh"), "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const files = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));

test("package.json points at files that exist, and every relative import resolves inside the package", () => {
  const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
  const cargoVersion = readFileSync(join(ROOT_DIR, "Cargo.toml"), "utf8").match(/^version = "([^"]+)"/m)[1];
  assert.equal(pkg.version, cargoVersion);
  assert.equal(pkg.type, "module");
  for (const f of [pkg.main, pkg.types, pkg.exports["."].default, pkg.exports["."].types, "worker.js", "pkg/banneret_bg.wasm", "pkg/relaxed/banneret_bg.wasm"]) {
    assert.ok(existsSync(join(out, f)), `${f} is in the package`);
  }
  const modules = files(out).filter((f) => f.endsWith(".js"));
  assert.ok(modules.length >= 10, `only ${modules.length} modules`);
  let imports = 0;
  for (const file of modules) {
    const source = readFileSync(file, "utf8");
    for (const m of source.matchAll(/(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|new URL\(\s*["'](\.[^"']+)["']\s*,\s*import\.meta\.url/g)) {
      const spec = m[1] ?? m[2] ?? m[3];
      assert.ok(spec.startsWith("./") || spec.startsWith("../"), `${relative(out, file)} imports '${spec}', which a browser cannot resolve without a bundler`);
      const target = join(dirname(file), spec);
      assert.ok(target.startsWith(out), `${relative(out, file)}: '${spec}' leaves the package`);
      assert.ok(existsSync(target), `${relative(out, file)}: '${spec}' is missing from the package`);
      imports++;
    }
  }
  assert.ok(imports >= 10, `only ${imports} imports found: the scan is broken`);
});

function tsc(source) {
  const file = join(work, "consumer.ts");
  writeFileSync(file, source);
  const bin = join(ROOT_DIR, "tests/e2e/node_modules/.bin/tsc");
  return spawnSync(bin, ["--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom,dom.iterable,dom.asynciterable", "--skipLibCheck", "false", file], { encoding: "utf8" });
}

test("TypeScript type-checks a page written against banneret.d.ts, and catches a wrong one", () => {
  const good = tsc(`
import { Banneret, defineSlot, createProfile, ErrorName, type WriteResult, type WriteChunk } from "./npm/banneret.js";
async function main(catalog: object, brand: object): Promise<string> {
  const profile = createProfile({ catalog });
  profile.setConsent(true);
  profile.recordView("NW-TR-101");
  const controller = new AbortController();
  const writer = await Banneret.create({
    model: { url: "/models/m.gguf", sha256: "00", bytes: 1 }, catalog, brand, kind: "banner",
    monitor(m) { m.addEventListener("downloadprogress", (e) => console.log((e as ProgressEvent).loaded)); },
    signal: controller.signal,
  });
  const slot = defineSlot({ writer, profile });
  slot.refreshAll({ keep: true });
  const result: WriteResult = await writer.write({ kind: "email_subject", goal: "winter sale", profile, tone: "casual" });
  for await (const chunk of writer.writeStreaming("spring")) {
    const c: WriteChunk = chunk;
    if (c.type === "result") console.log(c.result.plan.why, c.result.checks.every((k) => k.pass));
  }
  const shorter = await writer.rewrite({ copy: result.copy, operation: "shorter" });
  writer.destroy();
  console.log(ErrorName.data, await Banneret.availability({ model: "/models/m.gguf" }), profile.export()?.viewed);
  return shorter.copy.subject ?? result.plan.featured[0];
}
main({}, {});
`);
  assert.equal(good.status, 0, `tsc rejected a correct page:\n${good.stdout}${good.stderr}`);
  const bad = tsc(`
import { Banneret } from "./npm/banneret.js";
const w = await Banneret.create({ model: "/m.gguf", catalog: {}, brand: {} });
await w.write({ kind: "billboard" });
await w.rewrite({ copy: {}, operation: "louder" });
new Banneret();
`);
  assert.notEqual(bad.status, 0, "tsc accepted a wrong kind, operation and constructor call");
  for (const wanted of ['"billboard"', '"louder"', "constructor"]) assert.match(bad.stdout, new RegExp(wanted, "i"), `tsc did not flag ${wanted}:\n${bad.stdout}`);
});

test("a plain <script type=module> page served from the package alone writes checked copy", { timeout: 300_000 }, async () => {
  // A site: the package under /npm/, its own page and script next to it, the model under /models/.
  const site = join(out, "site");
  execFileSync("mkdir", ["-p", site]);
  writeFileSync(join(site, "index.html"), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title><link rel="icon" href="data:,">
<script type="module" src="./shop.js"></script></head><body><h1>Shop</h1><output id="out"></output></body></html>`);
  writeFileSync(join(site, "shop.js"), `import { Banneret } from "../banneret.js";
const json = (p) => fetch(p).then((r) => r.json());
const [catalog, brand, profile] = await Promise.all([json("/www/stores/northwind/catalog.json"), json("/www/stores/northwind/brand.json"), json("/www/stores/northwind/profiles/cart-abandoner.json")]);
try {
  const writer = await Banneret.create({ model: ${JSON.stringify({ url: `/models/${defaultModel.file}`, sha256: defaultModel.sha256, bytes: defaultModel.bytes })}, catalog, brand });
  const result = await writer.write({ kind: "email_subject", profile, num_return_sequences: 2 });
  document.getElementById("out").textContent = result.copy.subject;
  window.__result = result;
} catch (e) {
  window.__result = { error: e.name + "/" + e.code + ": " + e.message };
}
`);
  server = await startServer({ modelFile: modelPath(), args: ["--mount", `/npm/=${out}`, "--mount", `/www/=${join(ROOT_DIR, "www")}`] });
  browser = await launchChromium();
  const page = await browser.newPage();
  const problems = watchPage(page);
  const requests = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  const response = await page.goto(`${server.url}npm/site/index.html`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-security-policy"] ?? "", /script-src 'self' 'wasm-unsafe-eval'/);
  await page.waitForFunction(() => window.__result, null, { timeout: 240_000 });
  const result = await page.evaluate(() => window.__result);
  assert.equal(result.error, undefined, result.error);
  assert.ok(result.checks.every((c) => c.pass));
  assert.equal(result.personalized, true);
  assert.equal(await page.textContent("#out"), result.copy.subject);
  // The engine came from the package, not from the repository's www/ or pkg/.
  const code = requests.filter((p) => /\.(js|wasm)$/.test(p));
  assert.ok(code.some((p) => p.startsWith("/npm/pkg/") && p.endsWith(".wasm")), JSON.stringify(code));
  assert.deepEqual(code.filter((p) => !p.startsWith("/npm/")), [], "every script and wasm came from the package");
  assert.deepEqual(problems, []);
});
