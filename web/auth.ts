/**
 * How the page gets its chat token: a password sign-in (`POST /api/login`), a token the host page
 * hands over (the embed script, by postMessage), or a `#token=` link. Password tokens are kept in
 * localStorage so a reload stays signed in; handed-over tokens are never stored.
 */

import { OriginPolicy, PARENT_ORIGINS_META } from "../src/http/origins.js";
import type { LoginBody } from "../src/protocol/index.js";
import type { TokenReason, User } from "../src/sdk/index.js";
import { dropFromFragment } from "./links.js";

const TOKEN_KEY = "twc:session";

export interface Session {
  token: string;
  /** known after a password sign-in; a handed-over token learns it from the server */
  user: User | null;
  /** where the token came from: only password sign-ins are remembered and can be signed out */
  source: "password" | "link" | "embed";
}

/** Whether the page runs inside the PHP app's page (the embed script adds `?embed=1`). */
export const embedded = new URLSearchParams(location.search).get("embed") === "1";

/** A JWT's claims, read without checking the signature (the server checks it), or null. */
function claims(token: string): { exp?: unknown; sub?: unknown } | null {
  try {
    const payload: unknown = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    return payload !== null && typeof payload === "object" ? payload : null;
  } catch {
    return null;
  }
}

/** Seconds since 1970 when a JWT expires, or null if it can't be read. */
function expiresAt(token: string): number | null {
  const exp = claims(token)?.exp;
  return typeof exp === "number" ? exp : null;
}

/** Who a session is for: the user id the server gave, else the token's `sub`; null if unknown. */
function userIdOf(session: Session): string | null {
  if (session.user) return session.user.id;
  const sub = claims(session.token)?.sub;
  return typeof sub === "string" || typeof sub === "number" ? String(sub) : null;
}

/**
 * Whether a `#token=` link is for the person already signed in. A link for someone else is never
 * taken silently: anyone can send a link that signs its reader in as the sender, whose chats the
 * reader would then type into. Unknown counts as someone else.
 */
export function sameUser(a: Session, b: Session): boolean {
  const id = userIdOf(a);
  return id !== null && id === userIdOf(b);
}

/** A token that has not expired yet (with a minute to spare). */
function fresh(token: string): boolean {
  const exp = expiresAt(token);
  return exp !== null && exp * 1000 > Date.now() + 60_000;
}

/** The remembered password sign-in, if it is still valid. */
export function savedSession(): Session | null {
  try {
    const saved = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null") as Session | null;
    if (saved && typeof saved.token === "string" && fresh(saved.token))
      return { ...saved, source: "password" };
  } catch {
    // storage unavailable or unreadable: sign in again
  }
  return null;
}

export function forgetSession(): void {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing to forget
  }
}

/**
 * A token passed as `#token=…`: taken once and removed from the address bar and history (the rest
 * of the fragment, such as `room=…`, stays for the chat to open).
 */
export function tokenFromLink(): Session | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return null;
  dropFromFragment("token");
  return { token: decodeURIComponent(match[1]), user: null, source: "link" };
}

/** Why a password sign-in failed, in words for the person signing in. */
export class SignInError extends Error {}

export async function signInWithPassword(username: string, password: string): Promise<Session> {
  let response: Response;
  try {
    response = await fetch("/api/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
  } catch {
    throw new SignInError("Can't reach TimeWise Chat. Check your connection and try again.");
  }
  if (response.status === 401)
    throw new SignInError("That username and password don't match. Please try again.");
  if (response.status === 429) throw new SignInError("Too many tries. Please wait a minute, then try again.");
  if (!response.ok) throw new SignInError("Signing in isn't possible right now. Please try again soon.");
  const { token, user } = (await response.json()) as LoginBody;
  const session: Session = { token, user, source: "password" };
  try {
    localStorage.setItem(TOKEN_KEY, JSON.stringify(session));
  } catch {
    // not remembered: the person signs in again after a reload
  }
  return session;
}

/** The pages that may embed the chat and hand it a token: CORS_ORIGINS, as the server tells the page. */
function parentPolicy(): OriginPolicy {
  const meta = document.querySelector<HTMLMetaElement>(`meta[name="${PARENT_ORIGINS_META}"]`);
  const origins = (meta?.content ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  return new OriginPolicy(origins);
}

/** The parent page a token came from; the only page that is told anything afterwards. */
let hostOrigin: string | null = null;

/** The parent page is not in CORS_ORIGINS: its token is refused, and the person is told why. */
export class ForeignHostError extends Error {}

/**
 * Asks the host page (embed.js) for a token. The request carries no secret, so it may go to any
 * parent; the answer is only taken from the parent window itself, and only when that page's
 * origin is in CORS_ORIGINS (or is the chat server's own).
 */
export function tokenFromHost(reason: TokenReason, timeoutMs = 15_000): Promise<string> {
  const parents = parentPolicy();
  return new Promise((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      removeEventListener("message", onMessage);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error("The page did not hand over a token."));
    }, timeoutMs);
    const onMessage = (event: MessageEvent<unknown>) => {
      if (event.source !== window.parent) return;
      const data = event.data as { type?: unknown; token?: unknown } | null;
      if (data?.type !== "twc:token" || typeof data.token !== "string") return;
      finish();
      if (!parents.allows(event.origin, location.origin)) {
        reject(new ForeignHostError(event.origin));
        return;
      }
      hostOrigin = event.origin;
      resolve(data.token);
    };
    addEventListener("message", onMessage);
    window.parent.postMessage({ type: "twc:token-request", reason }, "*");
  });
}

/**
 * The parent page's origin, when it may be told things: the page whose token was taken, else
 * (after a password sign-in in the frame) the framing page if the browser names it and it is allowed.
 */
function parentOrigin(): string | null {
  if (hostOrigin !== null) return hostOrigin;
  const ancestor = location.ancestorOrigins?.[0];
  return ancestor && parentPolicy().allows(ancestor, location.origin) ? ancestor : null;
}

/** Tells the host page how many unread messages there are (it may show a badge); never another page. */
export function tellHostUnread(count: number): void {
  const origin = embedded ? parentOrigin() : null;
  if (origin !== null) window.parent.postMessage({ type: "twc:unread", count }, origin);
}
