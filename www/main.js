// The demo page: downloads the default model with a byte-accurate progress
// bar, hands the bytes to the worker (transferred, not copied) and shows what
// the file holds. Everything shown is set with textContent, never as HTML.
import { WorkerClient, Kind } from "./client.js";
import { downloadBytes } from "./download.js";

const $ = (id) => document.getElementById(id);
const bytesText = (n) => `${n.toLocaleString("en-US")} bytes`;
const client = new WorkerClient();

function setStatus(text, state = "ok") {
  $("status").textContent = text;
  $("status").dataset.state = state;
}

// The progress bar counts bytes: max = total, value = bytes received so far.
function showProgress({ loaded, total }) {
  const bar = $("progress");
  bar.max = total;
  bar.value = loaded;
  bar.dataset.loaded = String(loaded);
  bar.dataset.total = String(total);
  $("progress-text").textContent = `${loaded.toLocaleString("en-US")} of ${bytesText(total)}`;
}

function showSummary(info) {
  $("architecture").textContent = info.architecture ?? "(not stated)";
  $("name").textContent = info.name ?? "(not stated)";
  $("gguf-version").textContent = String(info.version);
  $("tensor-count").textContent = String(info.tensorCount);
  $("data-offset").textContent = `byte ${info.dataOffset.toLocaleString("en-US")}`;
  $("key-count").textContent = String(info.metadataKeys.length);
  $("keys").replaceChildren(
    ...info.metadataKeys.map((key) => {
      const li = document.createElement("li");
      li.textContent = key;
      return li;
    }),
  );
  $("inspect").hidden = false;
}

async function loadModel(model) {
  $("load").disabled = true;
  $("inspect").hidden = true;
  document.body.dataset.state = "loading";
  try {
    setStatus("Downloading…");
    const bytes = await downloadBytes(`models/${encodeURIComponent(model.file)}`, {
      expectedBytes: model.bytes,
      onProgress: showProgress,
    });
    setStatus("Inspecting in the worker…");
    const info = await client.request(Kind.inspectModel, { bytes: bytes.buffer }, [bytes.buffer]);
    $("progress").dataset.transferred = String(bytes.buffer.byteLength === 0);
    showSummary(info);
    setStatus(`Ready: ${info.architecture} model, ${info.tensorCount} tensors.`);
    document.body.dataset.state = "ready";
  } catch (e) {
    setStatus(`${e.name}: ${e.message}`, "error");
    document.body.dataset.state = "error";
  } finally {
    $("load").disabled = false;
  }
}

async function start() {
  try {
    const manifest = await (await fetch("models.json")).json();
    const model = manifest.models.find((m) => m.file === manifest.default);
    if (!model) throw new Error(`models.json names no entry for its default '${manifest.default}'`);
    $("model-title").textContent = `${model.title} — ${bytesText(model.bytes)}`;
    $("load").addEventListener("click", () => loadModel(model));
    $("load").disabled = false;
    const { version } = await client.request(Kind.version);
    $("engine-version").textContent = `banneret ${version} (WebAssembly, in a worker)`;
    document.body.dataset.state = "idle";
  } catch (e) {
    setStatus(`${e.name}: ${e.message}`, "error");
    document.body.dataset.state = "error";
  }
}

start();
