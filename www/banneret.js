// banneret's public entry point (the package's main module): the writer API,
// the custom element, the on-device profile collector and the error table.
// Works from a plain <script type="module"> (no bundler); the worker and the
// wasm are found next to this file (worker.js, pkg/).
export { Banneret, pickModel } from "./api.js";
export { defineSlot } from "./slot.js";
export { ProfileCollector, createProfile, liveContext, STORAGE_KEY, LIMITS } from "./profile.js";
export { ErrorName, CODES as ErrorCodes } from "./errors.js";
