/**
 * A node passes on its own committed sends without waiting for the commit feed to bring them
 * back, but only when that keeps the room in order. Two nodes in this process share one
 * PostgreSQL database; node A's feed is held up in the test (its real events kept back, then
 * handed on in order), so what A's sockets get while it is held came from A's own commits.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import type { FeedEvent, Listener, ListenOptions } from "../../src/storage/postgres/feed.js";
import { openPool } from "../../src/storage/postgres/pool.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import {
  collect,
  ok,
  requireService,
  startServer,
  type TestServer,
  type TestSocket,
  type TestUser,
  until,
} from "../support/harness.js";

const skip = await requireService("postgres");

/** The real store, whose feed events can be kept back and handed on later, in the order heard. */
class HeldFeedStore extends PostgresChatStore {
  /** the events heard while held, or null when they go straight on */
  held: FeedEvent[] | null = null;
  private pass: (event: FeedEvent) => void = () => {};

  override listenFeed(options: Omit<ListenOptions, "url">): Listener {
    this.pass = options.onEvent;
    return super.listenFeed({
      ...options,
      onEvent: (event) => (this.held ? this.held.push(event) : this.pass(event)),
    });
  }

  hold(): void {
    this.held = [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) this.pass(event);
  }
}

describe("a node's own commits on PostgreSQL", { skip }, () => {
  let a: TestServer;
  let b: TestServer;
  let storeA: HeldFeedStore;
  let alice: TestSocket;
  let bob: TestSocket;
  let carol: TestSocket;
  let roomId: string;
  let seen: Message[];
  const users: TestUser[] = [];

  before(async () => {
    a = await startServer({
      store: "postgres",
      openStore: async (url) => {
        storeA = new HeldFeedStore(openPool({ url, max: 4 }));
        return storeA;
      },
    });
    b = await startServer({ sqlitePath: a.sqlitePath, database: a.database! });
    users.push(await a.addUser("Alice"), await a.addUser("Bob"), await a.addUser("Carol"));
    alice = await a.connect(users[0]!);
    bob = await a.connect(users[1]!);
    carol = await b.connect(users[2]!);
    const { room } = await ok(alice, "room:create", {
      name: "Order",
      memberIds: [users[1]!.id, users[2]!.id],
    });
    roomId = room.id;
    seen = collect(bob, "message:new");
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  const send = async (socket: TestSocket, body: string) =>
    (await ok(socket, "message:send", { roomId, body, clientId: randomUUID() })).message;

  test("the next message of a room is passed on from the writer's own commit, and the feed's copy is not passed on again", async () => {
    // node A follows the room from its first message, which came through the feed
    const first = await send(alice, "first");
    await until(() => seen.length === 1, 5000, "Bob to get the first message");
    storeA.hold();
    const second = await send(alice, "second");
    // the feed is held, so only the writer's own commit can have told Bob
    await until(() => seen.length === 2, 5000, "Bob to get the second message while the feed is held");
    await until(() => storeA.held?.length === 1, 5000, "node A's feed to hear the second message");
    storeA.release();
    const third = await send(alice, "third");
    await until(() => seen.length >= 3, 5000, "Bob to get the third message");
    assert.deepEqual(
      seen.map((m) => [m.id, m.rev]),
      [first, second, third].map((m) => [m.id, m.rev]),
    );
  });

  test("after another node's commit that this node has not heard yet, its own next one waits for the feed", async () => {
    const before = seen.length;
    storeA.hold();
    // node B commits rev r; node A's feed holds it, so A knows the room only up to r - 1
    const fromB = await send(carol, "from the other node");
    await until(() => storeA.held?.length === 1, 5000, "node A's feed to hear node B's message");
    const acked = send(alice, "after it");
    // the writer's commit came back with rev r + 1 and was not passed on out of order: Bob has
    // neither message while the feed is held, and gets both in rev order once it is handed on
    await until(() => storeA.held?.length === 2, 5000, "node A's feed to hear Alice's message");
    await ok(bob, "room:list", {});
    assert.equal(seen.length, before, "nothing was passed on ahead of the feed");
    storeA.release();
    const own = await acked;
    await until(() => seen.length >= before + 2, 5000, "Bob to get both messages");
    assert.deepEqual(
      seen.slice(before).map((m) => [m.id, m.rev]),
      [
        [fromB.id, fromB.rev],
        [own.id, fromB.rev + 1],
      ],
    );
    // a round trip on Bob's socket, then nothing more came: each was passed on once
    await ok(bob, "room:list", {});
    assert.equal(seen.length, before + 2);
  });
});
