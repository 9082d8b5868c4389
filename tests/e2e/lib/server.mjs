// Starts scripts/serve.py on a free loopback port and stops it again.
import { spawn } from "node:child_process";
import { dirname, basename } from "node:path";
import { ROOT_DIR } from "./paths.mjs";

// Serves www/, pkg/ and the model directory. `modelFile` (a path) makes
// /models/ serve that file's directory instead of the cache.
export async function startServer({ args = [], modelFile } = {}) {
  const env = { ...process.env };
  if (modelFile) env.BANNERET_MODEL_DIR = dirname(modelFile);
  const child = spawn("python3", [`${ROOT_DIR}scripts/serve.py`, "--port", "0", ...args], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("serve.py did not start within 10 s")), 10_000);
    child.once("exit", (code) => reject(new Error(`serve.py exited with ${code} before serving`)));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/serving (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return {
    url,
    pid: child.pid,
    modelUrl: modelFile ? `${url}models/${encodeURIComponent(basename(modelFile))}` : undefined,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}
