/**
 * The error catalogue of the contract: one stable code per kind of failure, shared by acks,
 * HTTP JSON errors and the SDK's typed errors.
 */

/** Codes an acknowledgement or an HTTP error can carry. */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "NOT_FOUND",
  "FORBIDDEN",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  /** an upload would take the user past FILES_QUOTA_BYTES (HTTP 413, as for a file too large) */
  "QUOTA_EXCEEDED",
  "RATE_LIMITED",
  "UNAVAILABLE",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP status that goes with each code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode | AuthErrorCode, number>> = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  AUTH_EXPIRED: 401,
  USER_UNKNOWN: 401,
  USER_DISABLED: 403,
  AUTH_UNAVAILABLE: 503,
};

/** Codes of a refused handshake (`connect_error` with `err.data.code`). */
export const AUTH_ERROR_CODES = [
  "AUTH_REQUIRED",
  "AUTH_INVALID",
  "AUTH_EXPIRED",
  "USER_UNKNOWN",
  "USER_DISABLED",
  "AUTH_UNAVAILABLE",
] as const;
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

/** The body of a failed acknowledgement. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
  /** only with RATE_LIMITED: how long to wait before trying again */
  retryAfterMs?: number;
}

/** What every request event answers. */
export type Ack<R> = ({ ok: true } & R) | { ok: false; error: ErrorBody };

/**
 * Every code a refused handshake can carry in `err.data.code`: the sign-in codes, plus
 * `TOO_MANY_CONNECTIONS` (the user has the most connections allowed, MAX_SOCKETS_PER_USER) and
 * `RATE_LIMITED` (too many refused handshakes or unknown session cookies from this address).
 */
export const HANDSHAKE_ERROR_CODES = [...AUTH_ERROR_CODES, "TOO_MANY_CONNECTIONS", "RATE_LIMITED"] as const;
export type HandshakeErrorCode = (typeof HANDSHAKE_ERROR_CODES)[number];

/** `err.data` of a refused handshake. */
export interface HandshakeErrorData {
  code: HandshakeErrorCode;
  /** only with RATE_LIMITED: how long to wait before trying again */
  retryAfterMs?: number;
}

/**
 * `err.message` of a refused handshake: "unavailable", "too_many_connections" and "rate_limited"
 * mean try again later.
 */
export type HandshakeErrorMessage = "unauthorized" | "unavailable" | "too_many_connections" | "rate_limited";

/**
 * Why the server ended a live connection (`session:ended`): `AUTH_EXPIRED` the token expired (or
 * the PHP session did), `AUTH_INVALID` the token was revoked or the PHP session ended,
 * `USER_DISABLED` / `USER_UNKNOWN` the user was disabled or deleted, `SCOPE_CHANGED` the user moved
 * to another USERS_SCOPE_COLUMN scope (reconnect to see the new one).
 */
export const SESSION_ENDED_CODES = [
  "AUTH_EXPIRED",
  "AUTH_INVALID",
  "USER_DISABLED",
  "USER_UNKNOWN",
  "SCOPE_CHANGED",
] as const;
export type SessionEndedCode = (typeof SESSION_ENDED_CODES)[number];
