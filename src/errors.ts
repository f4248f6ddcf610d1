/**
 * Errors the services throw on purpose. Handlers turn them into `{ ok: false, error }` acks or
 * HTTP JSON errors; anything else becomes INTERNAL without leaking details.
 */
import type { ErrorBody, ErrorCode } from "./protocol/index.js";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "AppError";
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.details !== undefined) body.details = this.details;
    if (this.retryAfterMs !== undefined) body.retryAfterMs = this.retryAfterMs;
    return body;
  }
}

/** The one answer for rooms and users the caller may not see: it never reveals they exist. */
export const notFound = (what: "room" | "message" | "user" = "room") =>
  new AppError("NOT_FOUND", `That ${what} was not found.`);

export const badRequest = (message: string, details?: unknown) =>
  new AppError("BAD_REQUEST", message, details);

export const forbidden = (message: string) => new AppError("FORBIDDEN", message);

/** Thrown when a backing service (SQLite busy or full, MySQL down) cannot answer right now. */
export const unavailable = (message = "The chat server is busy. Please try again in a moment.") =>
  new AppError("UNAVAILABLE", message);
