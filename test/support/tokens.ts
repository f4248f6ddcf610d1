/**
 * Chat tokens made by hand, so tests control every header field and claim. Every test server, in
 * process or a child process, signs with TEST_SECRET.
 */
import { createHmac } from "node:crypto";

/** The secret every test server uses, so tests can sign their own tokens (at least 32 bytes). */
export const TEST_SECRET = "timewise-chat-test-secret-0123456789abcdef";

const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/**
 * Builds a JWT by hand (alg none, HS512, claims of any type). `alg` defaults to HS256; with "none"
 * the signature is empty.
 */
export function craftToken(
  claims: Record<string, unknown>,
  options: { secret?: string; alg?: "HS256" | "HS512" | "none"; header?: Record<string, unknown> } = {},
): string {
  const alg = options.alg ?? "HS256";
  const head = `${b64url(JSON.stringify({ alg, typ: "JWT", ...options.header }))}.${b64url(JSON.stringify(claims))}`;
  if (alg === "none") return `${head}.`;
  const hmac = createHmac(alg === "HS256" ? "sha256" : "sha512", options.secret ?? TEST_SECRET);
  return `${head}.${hmac.update(head).digest("base64url")}`;
}

/** A valid HS256 token for `sub`, issued now, valid for `ttlS` seconds. */
export function signToken(sub: string | number, secret = TEST_SECRET, ttlS = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  return craftToken({ sub, iat: now, exp: now + ttlS }, { secret });
}
