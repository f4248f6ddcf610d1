/**
 * The TimeWise Chat client contract: one module for the server, the SDK and the web UI.
 * Everything it exports at run time is plain data or small functions: the zod schemas stay in
 * `payloads.ts`, reached only through `export type`, so a browser bundle never pulls in zod.
 */
export * from "./errors.js";
export * from "./events.js";
export type * from "./http.js";
export * from "./limits.js";
export type * from "./payloads.js";
export * from "./types.js";
