/**
 * (v2.3) The Web Push routes for the SDK: the VAPID key, and this browser's subscription saved or
 * removed. A Bearer token when the client has one, else the PHP session cookie (credentials).
 */
import type { PushKeyBody, PushSubscribeInput } from "../protocol/index.js";
import { answerError, unreachable } from "./upload.js";

/** Where the requests go and how they sign in. */
export interface PushRoutesTarget {
  url: string;
  token: string | undefined;
}

async function call(target: PushRoutesTarget, method: string, path: string, body?: unknown): Promise<string> {
  const headers: Record<string, string> = {};
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(new URL(path, target.url).toString(), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: target.token ? "omit" : "include",
    });
  } catch (error) {
    throw unreachable(error);
  }
  const text = await res.text().catch(() => "");
  if (res.status >= 300) throw answerError({ status: res.status, text });
  return text;
}

export async function fetchPushKey(target: PushRoutesTarget): Promise<string> {
  return (JSON.parse(await call(target, "GET", "/api/push/key")) as PushKeyBody).publicKey;
}

export async function savePushSubscription(target: PushRoutesTarget, sub: PushSubscribeInput): Promise<void> {
  await call(target, "POST", "/api/push/subscriptions", sub);
}

export async function removePushSubscription(target: PushRoutesTarget, endpoint: string): Promise<void> {
  await call(target, "DELETE", "/api/push/subscriptions", { endpoint });
}
