/**
 * The server API as the PHP app calls it, for tests that move the clock: sends go through the
 * service key, so no user token can outlive a jump of the clock.
 */
import assert from "node:assert/strict";
import type { Message } from "../../src/protocol/index.js";

export function serverApiClient(url: () => string, key: string) {
  let n = 0;
  const call = (method: string, path: string, body: unknown) =>
    fetch(`${url()}/api/server/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  /** Sends as `sender` at the clock's time. */
  const post = async (sender: { id: string }, roomId: string, body: string): Promise<Message> => {
    n += 1;
    const res = await call("POST", "messages", { roomId, senderId: sender.id, body, clientId: `api${n}` });
    assert.equal(res.status, 201);
    return ((await res.json()) as { message: Message }).message;
  };
  return { call, post };
}
