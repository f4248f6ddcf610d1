/**
 * The commit feed of the PostgreSQL store against the real local PostgreSQL: a write is heard by
 * listeners when it commits and never when it rolls back, and a listener whose connection is
 * killed connects again and says so, so its node can fill the gap.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { Message } from "../../src/protocol/index.js";
import { type FeedEvent, type Listener, listen, notifyStatement } from "../../src/storage/postgres/feed.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { createTestDatabase, requireService, type TestDatabase, until } from "../support/harness.js";

const skip = await requireService("postgres");
const AT = "2026-03-01T10:00:00.000Z";

describe("the PostgreSQL commit feed", { skip }, () => {
  let db: TestDatabase;
  let store: PostgresChatStore;
  let listener: Listener;
  const heard: FeedEvent[] = [];
  let resumed = 0;
  const problems: string[] = [];

  before(async () => {
    db = await createTestDatabase("feed");
    store = await PostgresChatStore.open({ url: db.url });
    listener = listen({
      url: db.url,
      onEvent: (event) => heard.push(event),
      onResumed: () => resumed++,
      onProblem: (message) => problems.push(message),
      retryDelayMs: 10,
    });
    await listener.ready;
  });
  after(async () => {
    await listener?.close();
    await store?.close();
    await db?.drop();
  });

  const send = (roomId: string, body: string) =>
    store.sendMessage({ roomId, senderId: "1", body, clientId: null, replyToId: null, at: AT });
  /** A new room, once its own event was heard (so later tests count only their events). */
  const newRoom = async (name: string) => {
    const room = await store.createGroup({ name, ownerId: "1", memberIds: ["1"], at: AT });
    await until(() => heard.some((e) => e.kind === "room" && e.roomId === room.id), 5000, "the room's event");
    return room;
  };
  /** A plain connection to the chat database, to hold a transaction open or roll one back. */
  const connectWriter = async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    return client;
  };
  /** The event of a message just sent, carried inline. */
  const sentEvent = (message: Message): FeedEvent => ({
    kind: "message",
    roomId: message.roomId,
    rev: message.rev,
    change: "new",
    message,
  });
  /** Waits until `n` events were heard since `from`, and returns them. */
  const next = async (from: number, n = 1) => {
    await until(() => heard.length >= from + n, 5000, `${n} feed event(s)`);
    return heard.slice(from);
  };

  test("each committed write is heard with its room and rev, in commit order", async () => {
    const from = heard.length;
    const room = await store.createGroup({ name: "Feed", ownerId: "1", memberIds: ["1"], at: AT });
    const first = await send(room.id, "one");
    const edited = await store.editMessage(first.message.id, "one!", AT);
    await store.markRead(room.id, "1", 1);
    assert.deepEqual(await next(from, 4), [
      { kind: "room", roomId: room.id, rev: 0 },
      { kind: "message", roomId: room.id, rev: first.message.rev, change: "new", message: first.message },
      { kind: "message", roomId: room.id, rev: edited.rev, change: "updated", message: edited },
      { kind: "read", roomId: room.id, rev: null, userId: "1", seq: 1 },
    ]);
  });

  test("a message too big for one notification travels without its body, as ids and rev only", async () => {
    const room = await newRoom("Big");
    const from = heard.length;
    // 3000 three-byte characters: about 9000 bytes of JSON, over NOTIFY's 8000
    const big = await send(room.id, "€".repeat(3000));
    const small = await send(room.id, "€".repeat(2000));
    assert.deepEqual(await next(from, 2), [
      { kind: "message", roomId: room.id, rev: big.message.rev, change: "new" },
      { kind: "message", roomId: room.id, rev: small.message.rev, change: "new", message: small.message },
    ]);
  });

  test("a write is heard when it commits, not before", async () => {
    const room = await newRoom("Later");
    const from = heard.length;
    const pending: FeedEvent = { kind: "room", roomId: room.id, rev: 12345 };
    const writer = await connectWriter();
    try {
      await writer.query("BEGIN");
      await writer.query(notifyStatement, [JSON.stringify(pending)]);
      // a later write that commits first is heard first, and alone
      const sent = await send(room.id, "committed first");
      assert.deepEqual(await next(from), [sentEvent(sent.message)]);
      await writer.query("COMMIT");
      assert.deepEqual((await next(from, 2))[1], pending);
    } finally {
      await writer.end();
    }
  });

  test("a write that rolls back is never heard", async () => {
    const room = await newRoom("Undone");
    const writer = await connectWriter();
    const from = heard.length;
    try {
      await writer.query("BEGIN");
      await writer.query(notifyStatement, [JSON.stringify({ kind: "room", roomId: room.id, rev: 999 })]);
      await writer.query("ROLLBACK");
    } finally {
      await writer.end();
    }
    // a store write that fails (a reply into another room) rolls back too
    await assert.rejects(
      store.sendMessage({
        roomId: room.id,
        senderId: "1",
        body: "x",
        clientId: null,
        replyToId: "424242",
        at: AT,
      }),
      { code: "BAD_REQUEST" },
    );
    // notifications arrive in commit order: had either been sent, it would come before this one
    const sent = await send(room.id, "kept");
    assert.deepEqual(await next(from), [sentEvent(sent.message)]);
  });

  test("a listener whose connection is terminated connects again, reports it, and hears new writes", async () => {
    const room = await newRoom("Again");
    const before = resumed;
    const { rows } = await db.admin.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND application_name = 'timewise-chat-feed'",
      [db.name],
    );
    assert.deepEqual(
      rows.map((r) => r.done),
      [true],
    );
    await until(() => resumed > before, 5000, "the listener to resume");
    assert.ok(problems.some((p) => p.includes("commit feed connection lost")));
    const from = heard.length;
    const sent = await send(room.id, "after the gap");
    assert.deepEqual(await next(from), [sentEvent(sent.message)]);
  });

  test("a notification that is not a feed event is reported and ignored", async () => {
    const from = heard.length;
    const problemsBefore = problems.length;
    const writer = await connectWriter();
    try {
      await writer.query(notifyStatement, ['{"kind":"bogus"}']);
      await writer.query(notifyStatement, ["not json"]);
    } finally {
      await writer.end();
    }
    await until(() => problems.length >= problemsBefore + 2, 5000, "two problems");
    assert.equal(heard.length, from);
  });
});
