// The playground (playground.html): raw completions, no marketing pipeline.
// The worker downloads the default model with a byte-accurate progress bar
// (bytes go straight into the engine as they arrive), then the page streams a
// completion token by token, with a Stop button. Everything shown is set with
// textContent, never as HTML.
import { WorkerClient, Kind } from "./client.js";

const $ = (id) => document.getElementById(id);
const fmt = (n) => n.toLocaleString("en-US");
const client = new WorkerClient();
let running = null;

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
  $("progress-text").textContent = `${fmt(loaded)} of ${fmt(total)} bytes`;
}

function showInfo(info) {
  $("architecture").textContent = info.architecture;
  $("name").textContent = info.name ?? "(not stated)";
  $("context").textContent = `${fmt(info.context_length)} tokens, ${info.layers} layers, ${fmt(info.vocab_size)}-token vocabulary`;
  $("weights").textContent = `${(info.weight_bytes / 1e6).toFixed(1)} MB`;
  $("kernels").textContent = info.kernels;
  $("model-info").hidden = false;
}

async function loadModel(model) {
  $("load").disabled = true;
  document.body.dataset.state = "loading";
  const t0 = performance.now();
  try {
    setStatus("Downloading and loading…");
    const info = await client.request(
      Kind.loadModel,
      { url: new URL(`models/${encodeURIComponent(model.file)}`, location.href).href, expectedBytes: model.bytes },
      { onEvent: (e) => e.type === "progress" && showProgress(e) },
    );
    showInfo(info);
    setStatus(`Ready in ${fmt(Math.round(performance.now() - t0))} ms.`);
    $("playground").hidden = false;
    document.body.dataset.state = "ready";
  } catch (e) {
    setStatus(`${e.name}: ${e.message}`, "error");
    document.body.dataset.state = "error";
    $("load").disabled = false;
  }
}

async function generate(event) {
  event.preventDefault();
  const output = $("output");
  output.textContent = "";
  $("gen-stats").textContent = "";
  $("generate").disabled = true;
  $("stop").disabled = false;
  document.body.dataset.state = "generating";
  const request = {
    messages: [{ role: "user", content: $("message").value }],
    options: {
      max_new_tokens: Number($("max-new-tokens").value),
      temperature: Number($("temperature").value),
      seed: Number($("seed").value),
    },
  };
  running = client.start(Kind.generate, request, {
    onEvent: (e) => {
      if (e.type === "token" && e.text) output.append(document.createTextNode(e.text));
      else if (e.type === "token") $("gen-stats").textContent = `Reading the prompt: ${e.promptRead} of ${e.promptTokens} tokens`;
    },
  });
  try {
    const { completions, promptTokens, timings } = await running.done;
    const [c] = completions;
    output.textContent = c.text;
    const decodeMs = timings.totalMs - (timings.firstTokenMs ?? 0);
    const rate = c.token_ids.length > 1 && decodeMs > 0 ? ((c.token_ids.length - 1) / decodeMs) * 1000 : 0;
    $("gen-stats").textContent =
      `${promptTokens} prompt tokens; ${c.token_ids.length} generated (${c.finish_reason}); ` +
      `first token after ${fmt(Math.round(timings.firstTokenMs ?? timings.totalMs))} ms; ${rate.toFixed(1)} tokens/s`;
    document.body.dataset.state = "done";
  } catch (e) {
    $("gen-stats").textContent = e.name === "cancelled" ? "Stopped." : `${e.name}: ${e.message}`;
    document.body.dataset.state = e.name === "cancelled" ? "stopped" : "error";
  } finally {
    running = null;
    $("generate").disabled = false;
    $("stop").disabled = true;
  }
}

function stop() {
  if (running) client.request(Kind.cancel, { target: running.id });
}

async function start() {
  try {
    const manifest = await (await fetch("models.json")).json();
    const model = manifest.models.find((m) => m.file === manifest.default);
    if (!model) throw new Error(`models.json names no entry for its default '${manifest.default}'`);
    $("model-title").textContent = `${model.title} — ${fmt(model.bytes)} bytes`;
    $("load").addEventListener("click", () => loadModel(model));
    $("generate-form").addEventListener("submit", generate);
    $("stop").addEventListener("click", stop);
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
