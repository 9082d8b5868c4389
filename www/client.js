// The page's handle on the worker: request(kind, payload, { transfer, onEvent })
// returns a promise settled by the response with the same id; events for that
// id go to onEvent first. A worker that dies (an uncaught error, or a wasm
// trap it reports as fatal) rejects everything it had with worker_crashed —
// each error's `requestStarted` says whether that request had begun to run —
// and is started afresh on the next request (`generation` counts the losses).
import { Kind, WorkerError, errorFromWire } from "./protocol.js";

export { Kind };

export class WorkerClient {
  #url;
  #worker = null;
  #nextId = 1;
  #pending = new Map();
  #generation = 0;

  constructor(url = new URL("./worker.js", import.meta.url)) {
    this.#url = url;
  }

  // How many workers this client has lost: state set in the worker (model,
  // stores) under an earlier generation is gone.
  get generation() {
    return this.#generation;
  }

  request(kind, payload = {}, { transfer = [], onEvent = () => {} } = {}) {
    return this.start(kind, payload, { transfer, onEvent }).done;
  }

  // Like request, but also returns the id (to cancel it later).
  start(kind, payload = {}, { transfer = [], onEvent = () => {} } = {}) {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    const done = new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onEvent, started: false });
      worker.postMessage({ ...payload, id, kind }, transfer);
    });
    return { id, done };
  }

  terminate() {
    this.#fail({ name: WorkerError.crashed, message: "the worker was terminated" });
  }

  #ensureWorker() {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#url, { type: "module", name: "banneret" });
    worker.onmessage = ({ data }) => {
      if (data.fatal) return this.#fail(data.fatal);
      const pending = this.#pending.get(data.id);
      if (!pending) return;
      if (data.started) {
        pending.started = true;
        return;
      }
      if (data.event) return pending.onEvent(data.event);
      this.#pending.delete(data.id);
      if (data.ok) pending.resolve(data.value);
      else pending.reject(errorFromWire(data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail({ name: WorkerError.crashed, message: `the worker stopped: ${event.message || "unknown error"}` });
    };
    this.#worker = worker;
    return worker;
  }

  #fail(wireError) {
    if (this.#worker) this.#generation++;
    this.#worker?.terminate();
    this.#worker = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject, started } of pending) {
      const error = errorFromWire(wireError);
      error.requestStarted = started;
      reject(error);
    }
  }
}
