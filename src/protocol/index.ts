/** The TimeWise Chat client contract: one module for the server, the SDK and the web UI. */
export * from "./errors.js";
export * from "./events.js";
export type * from "./payloads.js";
export { codePointLength, LIMITS } from "./payloads.js";
export * from "./types.js";
