/**
 * (v2.4) Retention, erasure and the audit log on a real server (SQLite, and PostgreSQL with
 * TEST_CHAT_STORE=postgres). The app's clock is a number the test sets, and the daily job's turn
 * is fired by hand (ManualTimers), so the boundary is checked to the millisecond.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RETENTION_EVERY_MS } from "../../src/chat/retention/service.js";
import type { Message } from "../../src/protocol/index.js";
import { ManualTimers, startServer, type TestServer, until } from "../support/harness.js";
import { group, person, send } from "../support/rooms.js";

const KEY = "retention-test-service-key-0123456789";
const DAY = 24 * 60 * 60 * 1000;

describe("retention, erasure and the audit log", () => {
  let server: TestServer;
  let at = Date.now();
  const timers = new ManualTimers();
  before(async () => {
    server = await startServer({
      env: { SERVICE_API_KEY: KEY, RETENTION_DAYS: "30" },
      app: { now: () => at, jobTimers: timers },
    });
  });
  after(() => server?.close());

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/api/server/${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("deletes exactly the messages older than RETENTION_DAYS or their room's own, as a delete does", async () => {
    const ann = await person(server);
    const bob = await person(server);
    const plain = await group(ann, [bob]);
    const short = await group(ann, [bob]);
    const old = await send(ann.socket, plain.id, "old one");
    at += 1;
    const edge = await send(ann.socket, plain.id, "exactly thirty days");
    const shortOld = await send(ann.socket, short.id, "two days old");
    assert.equal((await api("PUT", `rooms/${short.id}/retention`, { days: 1 })).status, 200);
    assert.equal((await api("PUT", `rooms/${plain.id}/retention`, { days: null })).status, 200);

    const seen: Message[] = [];
    bob.socket.on("message:deleted", (m: Message) => seen.push(m));
    // the edge message is exactly 30 days old: kept; the first is 1 ms older: deleted
    at = Date.parse(edge.createdAt) + 30 * DAY;
    await timers.advance(RETENTION_EVERY_MS);

    const history = async (roomId: string) =>
      (await server.app.store.history(roomId, { limit: 10 })).messages;
    const plainNow = await history(plain.id);
    const gone = plainNow.find((m) => m.id === old.id)!;
    assert.deepEqual([gone.deleted, gone.body, gone.seq], [true, "", old.seq]);
    assert.ok(gone.rev > old.rev);
    assert.equal(plainNow.find((m) => m.id === edge.id)!.deleted, false);
    assert.equal((await history(short.id)).find((m) => m.id === shortOld.id)!.deleted, true);
    await until(() => seen.length >= 2, 5000, "both message:deleted events");
    assert.deepEqual(seen.map((m) => m.id).sort(), [old.id, shortOld.id].sort());
    // catch-up sees the deletion as a change after the old rev
    const changes = await server.app.store.changes(plain.id, old.rev, 10);
    assert.ok(changes.messages.some((m) => m.id === old.id && m.deleted));
  });

  test("erasure deletes every message of the user, and each change is in the audit log", async () => {
    const cid = await person(server);
    const room = await group(cid, []);
    await send(cid.socket, room.id, "one");
    await send(cid.socket, room.id, "two");
    const answer = await api("DELETE", `users/${cid.id}/messages`);
    assert.deepEqual([answer.status, await answer.json()], [200, { deleted: 2 }]);
    const audit = (await (await api("GET", "audit?limit=1000")).json()) as {
      entries: { action: string; target: string; details: Record<string, unknown> }[];
    };
    const actions = audit.entries.map((e) => `${e.action} ${e.target}`);
    assert.ok(actions.includes(`users.erase user:${cid.id}`));
    assert.ok(actions.includes(`rooms.retention room:${room.id}`) === false);
    assert.deepEqual(audit.entries.find((e) => e.action === "users.erase")!.details, { deleted: 2 });
    assert.ok(audit.entries.some((e) => e.action === "rooms.retention" && e.details.days === 1));
  });
});
