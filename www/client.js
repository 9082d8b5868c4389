// The page's handle on the worker: request(kind, payload, transfer) returns a
// promise settled by the response with the same id. A worker that dies
// rejects what it was doing and is started afresh on the next request.
import { Kind, WorkerError, errorFromWire } from "./protocol.js";

export { Kind };

export class WorkerClient {
  #url;
  #worker = null;
  #nextId = 1;
  #pending = new Map();

  constructor(url = new URL("./worker.js", import.meta.url)) {
    this.#url = url;
  }

  request(kind, payload = {}, transfer = []) {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...payload, id, kind }, transfer);
    });
  }

  terminate() {
    this.#fail({ name: WorkerError.crashed, message: "the worker was terminated" });
  }

  #ensureWorker() {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#url, { type: "module", name: "banneret" });
    worker.onmessage = ({ data }) => {
      const pending = this.#pending.get(data.id);
      if (!pending) return;
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
    this.#worker?.terminate();
    this.#worker = null;
    for (const { reject } of this.#pending.values()) reject(errorFromWire(wireError));
    this.#pending.clear();
  }
}
