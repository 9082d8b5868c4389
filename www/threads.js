// Helper threads for the threaded build (pkg/threads/): Web Workers that
// instantiate the same compiled module on the engine's shared memory and
// then spend their life inside its `threadHelper` export, taking parts of
// the matrix products (src/threads.rs). Only the engine's worker calls this,
// only on a cross-origin isolated page (SharedArrayBuffer). A helper that
// fails to start only means fewer threads: the engine splits its work
// across the helpers that did (and runs every part itself with none).

const HELPER_URL = new URL("./threads-worker.js", import.meta.url);
// A helper not ready by then is left out (it may still join later: the pool
// lets late helpers take parts, but the thread count is set now).
const START_TIMEOUT_MS = 10_000;

// Starts `threads - 1` helpers for the build whose glue is at `glueUrl`
// (`glue` is that module, initialized); resolves to the threads the engine
// now uses, the caller included.
export async function startHelpers(glue, glueUrl, threads) {
  const [module, memory] = glue.threadShared();
  if (!(module instanceof WebAssembly.Module) || !(memory?.buffer instanceof SharedArrayBuffer)) {
    throw new Error("the threaded build has no shared memory to give helpers");
  }
  const started = await Promise.all(
    Array.from({ length: Math.max(0, threads - 1) }, (_, i) => startHelper(i + 1, glueUrl, module, memory)),
  );
  const ready = started.filter(Boolean).length;
  return glue.setThreads(1 + ready);
}

function startHelper(index, glueUrl, module, memory) {
  return new Promise((resolve) => {
    const worker = new Worker(HELPER_URL, { type: "module", name: `banneret-helper-${index}` });
    const timer = setTimeout(() => finish(false, "did not start in time"), START_TIMEOUT_MS);
    function finish(ok, why) {
      clearTimeout(timer);
      worker.onmessage = worker.onerror = null;
      if (!ok) {
        console.warn(`banneret: helper thread ${index} ${why}; running with fewer threads`);
        worker.terminate();
      }
      resolve(ok);
    }
    worker.onmessage = ({ data }) => (data?.ready ? finish(true) : finish(false, `failed: ${data?.error}`));
    worker.onerror = (e) => {
      e.preventDefault();
      finish(false, `failed: ${e.message}`);
    };
    worker.postMessage({ glueUrl: String(glueUrl), module, memory });
  });
}
