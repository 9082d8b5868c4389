// One helper thread of the threaded build (started by threads.js): it
// instantiates the engine's compiled module on the engine's shared memory,
// says it is ready, and enters `threadHelper`, which never returns (the
// helper waits on the shared memory between jobs). It dies with the
// engine's worker.
self.onmessage = async ({ data: { glueUrl, module, memory } }) => {
  self.onmessage = null;
  let glue;
  try {
    glue = await import(glueUrl);
    await glue.default({ module_or_path: module, memory });
  } catch (e) {
    self.postMessage({ error: String(e?.message ?? e) });
    return;
  }
  self.postMessage({ ready: true });
  glue.threadHelper();
};
