// scripts/serve.py over plain HTTP: MIME types, lengths, ranges, headers, and
// nothing outside its three mounts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { statSync, existsSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:net";
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

// One request on its own connection, read to the close, so a body after a 304 would show.
function rawExchange(base, path, headers = {}, method = "GET") {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const chunks = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close",
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    socket.on("data", (chunk) => chunks.push(chunk)).on("error", reject).on("end", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const [statusLine, ...fields] = text.slice(0, split).split("\r\n");
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers: new Map(fields.map((f) => [f.slice(0, f.indexOf(":")).toLowerCase(), f.slice(f.indexOf(":") + 1).trim()])),
        body: text.slice(split + 4),
      });
    });
  });
}

test("revalidates with ETag: 304 without a body for a matching If-None-Match, the file otherwise", async () => {
  const files = [
    { url: `${server.url}worker.js`, path: "/worker.js", file: new URL("www/worker.js", ROOT), read: true },
    { url: server.modelUrl, path: new URL(server.modelUrl).pathname, file: MODEL, read: false },
  ];
  const tags = [];
  for (const { url, path, file, read } of files) {
    const { size, mtimeMs } = statSync(file);
    const first = await fetch(url);
    assert.equal(first.status, 200);
    const etag = first.headers.get("etag");
    assert.match(etag ?? "", /^"[^"]+"$/, url);
    assert.equal(Date.parse(first.headers.get("last-modified")), Math.floor(mtimeMs / 1000) * 1000, url);
    await first.body.cancel();
    tags.push(etag);

    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      for (const method of ["GET", "HEAD"]) {
        const r = await rawExchange(server.url, path, { "If-None-Match": tag }, method);
        assert.equal(r.status, 304, `${method} ${url} If-None-Match: ${tag}`);
        assert.equal(r.body, "");
        assert.equal(r.headers.get("content-length"), undefined);
        assert.equal(r.headers.get("etag"), etag);
        assert.equal(r.headers.get("cache-control"), "no-cache");
        assert.match(r.headers.get("content-security-policy") ?? "", /wasm-unsafe-eval/);
      }
    }
    const isolated304 = await rawExchange(isolated.url, path, { "If-None-Match": etag });
    assert.equal(isolated304.status, 304);
    assert.equal(isolated304.headers.get("cross-origin-embedder-policy"), "require-corp");
    assert.equal(isolated304.headers.get("x-test"), "yes");
    // A range under a matching If-None-Match may be answered 304 too.
    assert.equal((await rawExchange(server.url, path, { "If-None-Match": etag, Range: "bytes=0-3" })).status, 304);

    const stale = await fetch(url, { headers: { "If-None-Match": '"other"' } });
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get("etag"), etag);
    assert.equal(Number(stale.headers.get("content-length")), size);
    if (read) assert.equal((await stale.arrayBuffer()).byteLength, size);
    else await stale.body.cancel();

    const part = await fetch(url, { headers: { Range: "bytes=0-3", "If-Range": etag } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("etag"), etag);
    assert.ok(part.headers.get("last-modified"));
    assert.equal((await part.arrayBuffer()).byteLength, 4);
    const changed = await fetch(url, { headers: { Range: "bytes=0-3", "If-Range": '"other"' } });
    assert.equal(changed.status, 200, "a range under a stale If-Range gets the whole file");
    assert.equal(Number(changed.headers.get("content-length")), size);
    await changed.body.cancel();
  }
  // The tag follows the file: two files, two tags.
  assert.notEqual(tags[0], tags[1]);
});
