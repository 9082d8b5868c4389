// scripts/serve.py over plain HTTP: MIME types, lengths, ranges, headers, and
// nothing outside its three mounts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { statSync, existsSync } from "node:fs";
import { get } from "node:http";
import { startServer } from "./lib/server.mjs";
import { modelPath, ROOT } from "./lib/paths.mjs";

const MODEL = modelPath();
let server, isolated, bare;

before(async () => {
  [server, isolated, bare] = await Promise.all([
    startServer({ modelFile: MODEL }),
    startServer({ modelFile: MODEL, args: ["--isolate", "--header", "X-Test: yes"] }),
    startServer({ modelFile: MODEL, args: ["--no-csp"] }),
  ]);
});
after(() => Promise.all([server, isolated, bare].map((s) => s?.close())));

test("serves the page, the wasm and the model with exact types and lengths", async () => {
  const page = await fetch(server.url);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(page.headers.get("content-security-policy"), /script-src 'self' 'wasm-unsafe-eval'/);
  assert.equal(Number(page.headers.get("content-length")), (await page.arrayBuffer()).byteLength);

  const wasmPath = new URL("pkg/banneret_bg.wasm", ROOT);
  assert.ok(existsSync(wasmPath), "pkg/ is built (make build)");
  const wasm = await fetch(`${server.url}pkg/banneret_bg.wasm`);
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  assert.equal(Number(wasm.headers.get("content-length")), statSync(wasmPath).size);
  await wasm.body.cancel();

  const js = await fetch(`${server.url}worker.js`);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  await js.body.cancel();

  const head = await fetch(server.modelUrl, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get("content-length")), statSync(MODEL).size);
});

test("honours byte ranges on the model", async () => {
  const size = statSync(MODEL).size;
  const first = await fetch(server.modelUrl, { headers: { Range: "bytes=0-3" } });
  assert.equal(first.status, 206);
  assert.equal(first.headers.get("content-range"), `bytes 0-3/${size}`);
  assert.equal(Buffer.from(await first.arrayBuffer()).toString("latin1"), "GGUF");
  const tail = await fetch(server.modelUrl, { headers: { Range: "bytes=-10" } });
  assert.equal(tail.status, 206);
  assert.equal((await tail.arrayBuffer()).byteLength, 10);
  const past = await fetch(server.modelUrl, { headers: { Range: `bytes=${size}-` } });
  assert.equal(past.status, 416);
});

// The path goes out exactly as written (fetch would normalize the dots away).
function rawStatus(base, path) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    get({ hostname, port, path }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on("error", reject);
  });
}

test("never serves outside its mounts or lists directories", async () => {
  const paths = ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/pkg/../../Cargo.toml", "/pkg/%2e%2e/%2e%2e/Cargo.toml",
    "/models/..%2f..%2fCargo.toml", "/models/", "/pkg/", "/nope.js"];
  for (const path of paths) assert.equal(await rawStatus(server.url, path), 404, path);
  assert.equal(await rawStatus(server.url, "/index.html"), 200);
});

test("adds isolation and custom headers on request, and can drop the CSP", async () => {
  const r = await fetch(isolated.url);
  assert.equal(r.headers.get("cross-origin-opener-policy"), "same-origin");
  assert.equal(r.headers.get("cross-origin-embedder-policy"), "require-corp");
  assert.equal(r.headers.get("x-test"), "yes");
  await r.arrayBuffer();
  const plain = await fetch(bare.url);
  assert.equal(plain.headers.get("content-security-policy"), null);
  await plain.arrayBuffer();
});
