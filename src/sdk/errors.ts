/**
 * The SDK's typed errors. A failed acknowledgement becomes a `ChatError` with the contract's code;
 * a refused connection a `ChatAuthError`; a request that got no answer a `ChatTimeoutError`.
 */
import type { ErrorBody, ErrorCode, HandshakeErrorCode } from "../protocol/index.js";

/** The server answered a request with `{ ok: false }`. `code` is one of the contract's codes. */
export class ChatError extends Error {
  override readonly name = "ChatError";
  readonly code: ErrorCode;
  readonly details: unknown;
  /** only with `RATE_LIMITED`: how long to wait before trying again */
  readonly retryAfterMs: number | undefined;

  constructor(body: ErrorBody) {
    super(body.message);
    this.code = body.code;
    this.details = body.details;
    this.retryAfterMs = body.retryAfterMs;
  }
}

/**
 * The server refused the connection (`connect_error`). `code` is one of the contract's handshake
 * codes, `TOO_MANY_CONNECTIONS` when the user already has the most connections allowed, or
 * `RATE_LIMITED` when this address had too many refused attempts (wait `retryAfterMs`).
 */
export class ChatAuthError extends Error {
  override readonly name = "ChatAuthError";
  readonly code: HandshakeErrorCode;
  /** only with `RATE_LIMITED`: how long to wait before trying again */
  readonly retryAfterMs: number | undefined;

  constructor(code: HandshakeErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** Whether trying again later (without a new token) can help. */
  get temporary(): boolean {
    return (
      this.code === "AUTH_UNAVAILABLE" || this.code === "TOO_MANY_CONNECTIONS" || this.code === "RATE_LIMITED"
    );
  }
}

/**
 * No answer in time: the request may or may not have reached the server. Retrying is safe only for
 * idempotent requests (the outbox retries sends with the same `clientId`).
 */
export class ChatTimeoutError extends Error {
  override readonly name = "ChatTimeoutError";
  readonly event: string;

  constructor(event: string, timeoutMs: number) {
    super(`No answer to ${event} within ${timeoutMs} ms.`);
    this.event = event;
  }
}

/** Whether a failed send is worth retrying later with the same `clientId`. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ChatTimeoutError) return true;
  return error instanceof ChatError && (error.code === "RATE_LIMITED" || error.code === "UNAVAILABLE");
}
