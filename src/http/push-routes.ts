/**
 * (v2.3) The Web Push routes of a signed-in user (a Bearer token, or the PHP session cookie as for
 * uploads): `GET /api/push/key`, `POST` and `DELETE /api/push/subscriptions`. Bodies are small
 * JSON (at most PUSH_BODY_BYTES), validated by the contract's schemas and rate limited per user.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import * as P from "../protocol/payloads.js";
import type { PushSubscriptionService } from "../push/subscriptions.js";
import type { EventLimits } from "../realtime/limits.js";
import type { Actor } from "../shared/actor.js";
import { parseInput } from "../shared/parse.js";
import { readJson, reply } from "./respond.js";

/** A PushSubscription's JSON is well under 1 KB; 8 KB leaves room for long endpoints. */
export const PUSH_BODY_BYTES = 8 * 1024;

export interface PushRouteDeps {
  push: PushSubscriptionService;
  limits: EventLimits;
  authenticate(req: IncomingMessage): Promise<Actor>;
}

/** Answers a push route and returns true, or returns false for any other route. */
export async function servePushRoute(
  route: string,
  req: IncomingMessage,
  res: ServerResponse,
  deps: PushRouteDeps,
): Promise<boolean> {
  if (route === "GET /api/push/key") {
    const actor = await deps.authenticate(req);
    await deps.limits.take("reads", actor.id);
    reply(res, route, 200, { publicKey: deps.push.publicKey });
    return true;
  }
  if (route === "POST /api/push/subscriptions") {
    const actor = await deps.authenticate(req);
    await deps.limits.take("rooms", actor.id);
    const input = parseInput(P.pushSubscribe, await readJson(req, PUSH_BODY_BYTES));
    await deps.push.subscribe(actor, input);
    reply(res, route, 201, { endpoint: input.endpoint });
    return true;
  }
  if (route === "DELETE /api/push/subscriptions") {
    const actor = await deps.authenticate(req);
    await deps.limits.take("rooms", actor.id);
    const input = parseInput(P.pushUnsubscribe, await readJson(req, PUSH_BODY_BYTES));
    await deps.push.unsubscribe(actor, input.endpoint);
    res.writeHead(204, { "cache-control": "no-store" }).end();
    return true;
  }
  return false;
}
