// The one table of errors the JS API throws. Every rejection is either the
// abort signal's reason (a DOMException named "AbortError" unless the caller
// gave another reason) or an Error whose `name` is a web-platform error name
// from this table and whose `code` is the exact cause: the crate's
// error code (src/error.rs), the worker's (protocol.js WorkerError), the model
// cache's or the API's own. The README's error table is this table.
import { WorkerError } from "./protocol.js";

export const ErrorName = Object.freeze({
  notSupported: "NotSupportedError",
  network: "NetworkError",
  data: "DataError",
  invalidRequest: "TypeError",
  quota: "QuotaExceededError",
  invalidState: "InvalidStateError",
  operation: "OperationError",
});

// code → name. Codes not listed (a future crate code) become OperationError.
export const CODES = Object.freeze({
  // the browser or the model cannot run here
  unsupported_browser: ErrorName.notSupported, // no module workers, WebAssembly or SIMD
  [WorkerError.wasmInit]: ErrorName.notSupported,
  unsupported_architecture: ErrorName.notSupported,
  unsupported_tensor_type: ErrorName.notSupported,
  // the model could not be fetched
  [WorkerError.download]: ErrorName.network,
  // the model's or the store's data is wrong
  [WorkerError.integrity]: ErrorName.data,
  invalid_model: ErrorName.data,
  truncated_model: ErrorName.data,
  missing_metadata: ErrorName.data,
  missing_tensor: ErrorName.data,
  tokenizer: ErrorName.data,
  template: ErrorName.data,
  invalid_input: ErrorName.data, // catalog, brand or profile unusable (names the field)
  // the request is wrong (names the field; unknown fields are rejected)
  invalid_request: ErrorName.invalidRequest,
  // prompt plus requested tokens exceed the model's context window
  context_overflow: ErrorName.quota,
  // the writer is destroyed, or used before it is ready
  destroyed: ErrorName.invalidState,
  configured_too_late: ErrorName.invalidState, // Banneret.configure after the worker started
  [WorkerError.noModel]: ErrorName.invalidState,
  [WorkerError.noStore]: ErrorName.invalidState,
  // the engine failed; the next request starts a fresh worker
  [WorkerError.crashed]: ErrorName.operation,
  [WorkerError.unknownKind]: ErrorName.operation,
  internal: ErrorName.operation,
});

// An Error (a TypeError for invalid_request, as platform APIs throw for a bad
// argument) with `name` from CODES and `code` = the exact cause.
export function banneretError(code, message, { cause } = {}) {
  const name = Object.hasOwn(CODES, code) ? CODES[code] : ErrorName.operation;
  const options = cause === undefined ? undefined : { cause };
  const error = name === ErrorName.invalidRequest ? new TypeError(message, options) : new Error(message, options);
  Object.defineProperty(error, "name", { value: name, writable: true, configurable: true });
  error.code = code;
  return error;
}

// The API's error for a worker/crate error ({ name: code, message }).
export function fromWorker(error) {
  const wrapped = banneretError(String(error?.name ?? "internal"), String(error?.message ?? error), { cause: error });
  if (error?.requestStarted !== undefined) wrapped.requestStarted = error.requestStarted;
  return wrapped;
}

export function abortError(signal) {
  return signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
