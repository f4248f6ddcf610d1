/**
 * The TimeWise Chat client SDK. Types come from the contract module, the same one the server
 * uses; `ChatClient` is the entry point.
 */
export type * from "../protocol/index.js";
export {
  AUTH_ERROR_CODES,
  ERROR_CODES,
  HANDSHAKE_ERROR_CODES,
  LIMITS,
  REQUEST_EVENTS,
} from "../protocol/index.js";
export {
  ChatClient,
  type ChatClientOptions,
  type ChatSocket,
  type ClientEvents,
  type TokenReason,
} from "./client.js";
export { ChatAuthError, ChatError, ChatTimeoutError, isRetryable } from "./errors.js";
export type { OutboxItem } from "./outbox.js";
export type { RoomState } from "./room-state.js";
export { defaultStorage, type KeyValueStorage, MemoryStorage } from "./storage.js";
export { ChatState, type ConnectionStatus } from "./store.js";
export type { UploadOptions, UploadProgress } from "./upload.js";
