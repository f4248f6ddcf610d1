/**
 * Mentions (PROTOCOL v2.3): `@login` resolved by the server on send and edit, `@all`/`@here` in
 * groups, the caller's unread mention counts, and what an edit adds or removes. Real sockets, a
 * real server; runs on SQLite and, in `npm run test:postgres`, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { NewMentions } from "../../src/chat/messages/service.js";
import type { Message } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer, until, waitFor } from "../support/harness.js";
import {
  allMessages,
  assertMessageShape,
  assertRoomShape,
  clientId,
  expectError,
  getRoom,
  group,
  MISSING_ID,
  type Person,
  send,
} from "../support/rooms.js";

let server: TestServer;
let ann: Person;
let bob: Person;
let smith: Person;
let carl: Person;
let dave: Person;
/** a group of ann, bob, bob.smith and carl; dave is not in it */
let roomId: string;
let direct: string;
let n = 0;

/** Someone with this exact login, connected. */
async function withLogin(login: string, name: string): Promise<Person> {
  const user = await server.addUser(name, { login: `${login}` });
  return { id: user.id, user, socket: await server.connect(user) };
}

before(async () => {
  // search is polled until the index caught up: the allowance must not stop the polling
  server = await startServer({ env: { RATE_LIMIT_SEARCHES: "100000" } });
  ann = await withLogin("ann", "Ann Author");
  bob = await withLogin("bob", "Bob Builder");
  smith = await withLogin("bob.smith", "Bob Smith");
  carl = await withLogin("Carl_K", "Carl Kent");
  dave = await withLogin("dave", "Dave Outsider");
  roomId = (await group(ann, [bob, smith, carl], "Mentions")).id;
  direct = (await ok(ann.socket, "room:direct", { userId: bob.id })).room.id;
});
after(() => server.close());

/** A fresh group of ann, bob and carl, so counts start from nothing. */
async function freshGroup(): Promise<string> {
  n += 1;
  return (await group(ann, [bob, carl], `Counts ${n}`)).id;
}

const mentionsOf = (m: Message) => ({ mentions: m.mentions, mentionsAll: m.mentionsAll });

const CASES: [body: string, mentions: () => string[], all: boolean][] = [
  ["hi @bob", () => [bob.id], false],
  ["@bob, @Carl_K and @bob again", () => [bob.id, carl.id], false],
  // logins compare ignoring case, as the directory does
  ["thanks @BOB and @carl_k", () => [bob.id, carl.id], false],
  // the longest login that names a member wins; a full stop after a login is punctuation
  ["ask @bob.smith.", () => [smith.id], false],
  ["ask @bob. Then go", () => [bob.id], false],
  ["(@bob) [@bob.smith]", () => [bob.id, smith.id], false],
  // an email address, or an @ inside a word, mentions nobody
  ["write to bob@example.com or ann@bob", () => [], false],
  // dave exists but is not a member; nobody has the login nobody
  ["@dave @nobody", () => [], false],
  ["@all standup in 5", () => [], true],
  ["@HERE and @bob", () => [bob.id], true],
  ["no mention at all", () => [], false],
];

for (const [body, expected, all] of CASES) {
  test(`a send of ${JSON.stringify(body)} mentions exactly the members it names`, async () => {
    const heard = waitFor(bob.socket, "message:new", (m) => m.body === body);
    const message = await send(ann.socket, roomId, body);
    assertMessageShape(message);
    assert.deepEqual(mentionsOf(message), { mentions: expected(), mentionsAll: all });
    assert.deepEqual(mentionsOf(await heard), mentionsOf(message), "the live message:new");
  });
}

test("mentions appear the same in the ack, live, history, changes and search", async () => {
  const body = `deploy zebracorn ${Date.now()} @bob @all`;
  const live = waitFor(carl.socket, "message:new", (m) => m.body === body);
  const sent = await send(ann.socket, roomId, body);
  const expected = { mentions: [bob.id], mentionsAll: true };
  assert.deepEqual(mentionsOf(sent), expected);
  assert.deepEqual(mentionsOf(await live), expected);
  const history = (await allMessages(bob.socket, roomId)).find((m) => m.id === sent.id)!;
  assert.deepEqual(history, sent);
  const changes = await ok(bob.socket, "message:changes", { roomId, sinceRev: sent.rev - 1 });
  assert.deepEqual(changes.messages, [sent]);
  assert.deepEqual((await getRoom(bob.socket, roomId)).lastMessage, sent);
  // search indexes in the background: poll until the new body is found
  let found: Message[] = [];
  await until(
    async () => {
      found = (await ok(bob.socket, "message:search", { query: "zebracorn", roomId })).messages;
      return found.length > 0;
    },
    5000,
    "the search index has the message",
  );
  assert.deepEqual(found, [sent]);
});

test("mentions and mentionsAll in a payload are ignored: only the body counts", async () => {
  const { message } = await ok(ann.socket, "message:send", {
    roomId,
    body: "nothing to see",
    clientId: clientId(),
    mentions: [bob.id, dave.id],
    mentionsAll: true,
  } as never);
  assert.deepEqual(mentionsOf(message), { mentions: [], mentionsAll: false });
});

test("@all and @here mention everyone only in a group, never in a direct room", async () => {
  const message = await send(ann.socket, direct, "@all @here and @bob");
  assert.deepEqual(mentionsOf(message), { mentions: [bob.id], mentionsAll: false });
});

test("an edit that adds a mention records it and tells the hook who is new; removing one takes nothing back", async () => {
  const heard: [Message, NewMentions][] = [];
  const stop = server.app.onMentioned.add((message, mentioned) => {
    if (message.roomId === roomId) heard.push([message, mentioned]);
  });
  try {
    const first = await send(ann.socket, roomId, "hello team");
    assert.deepEqual(heard, []);
    const updated = waitFor(bob.socket, "message:updated", (m) => m.id === first.id);
    const added = (await ok(ann.socket, "message:edit", { messageId: first.id, body: "hello @bob" })).message;
    assert.deepEqual(mentionsOf(added), { mentions: [bob.id], mentionsAll: false });
    assert.deepEqual(mentionsOf(await updated), mentionsOf(added));
    assert.deepEqual(heard, [[added, { userIds: [bob.id], all: false, via: "edit" }]]);

    // bob stays mentioned, carl and everyone are new: only they are told of
    const more = (
      await ok(ann.socket, "message:edit", { messageId: first.id, body: "hello @bob @carl_k @here" })
    ).message;
    assert.deepEqual(mentionsOf(more), { mentions: [bob.id, carl.id], mentionsAll: true });
    assert.deepEqual(heard[1], [more, { userIds: [carl.id], all: true, via: "edit" }]);

    // removing mentions changes the message, and tells the hook nothing
    const removed = (await ok(ann.socket, "message:edit", { messageId: first.id, body: "hello" })).message;
    assert.deepEqual(mentionsOf(removed), { mentions: [], mentionsAll: false });
    assert.equal(heard.length, 2);
    const stored = (await allMessages(carl.socket, roomId)).find((m) => m.id === first.id)!;
    assert.deepEqual(mentionsOf(stored), { mentions: [], mentionsAll: false });

    // a send tells the hook of everyone it mentions
    const sent = await send(ann.socket, roomId, "@carl_k look");
    assert.deepEqual(heard[2], [sent, { userIds: [carl.id], all: false, via: "send" }]);
    assert.equal(heard.length, 3);
  } finally {
    stop();
  }
});

test("a deleted message mentions nobody", async () => {
  const sent = await send(ann.socket, roomId, "@bob @all secret");
  const { message } = await ok(ann.socket, "message:delete", { messageId: sent.id });
  assert.deepEqual(mentionsOf(message), { mentions: [], mentionsAll: false });
});

test("each member's unread mentions count the messages after their marker that mention them or everyone", async () => {
  const room = await freshGroup();
  const m1 = await send(ann.socket, room, "@bob first");
  await send(ann.socket, room, "plain");
  const m3 = await send(ann.socket, room, "@all second");
  await send(bob.socket, room, "@bob talking to myself @all");
  const counts = async (p: Person) => {
    const r = await getRoom(p.socket, room);
    assertRoomShape(r);
    return { unread: r.unread, mentions: r.mentions };
  };
  assert.deepEqual(await counts(bob), { unread: 3, mentions: 2 });
  assert.deepEqual(await counts(carl), { unread: 4, mentions: 2 });
  // the sender's own messages never count, mentions of everyone included
  assert.deepEqual(await counts(ann), { unread: 1, mentions: 1 });

  await ok(bob.socket, "room:read", { roomId: room, seq: m1.seq });
  assert.deepEqual(await counts(bob), { unread: 2, mentions: 1 });
  // a deleted mention no longer counts (the message still does, as unread counts every seq)
  await ok(ann.socket, "message:delete", { messageId: m3.id });
  assert.deepEqual(await counts(bob), { unread: 2, mentions: 0 });
  assert.deepEqual(await counts(carl), { unread: 4, mentions: 1 });
  // an edit that mentions carl counts for him until he reads it
  await ok(ann.socket, "message:edit", { messageId: m1.id, body: "@carl_k first" });
  assert.deepEqual(await counts(carl), { unread: 4, mentions: 2 });
  await ok(carl.socket, "room:read", { roomId: room, seq: 4 });
  assert.deepEqual(await counts(carl), { unread: 0, mentions: 0 });

  const listed = (await ok(bob.socket, "room:list", {})).rooms.find((r) => r.id === room)!;
  assert.deepEqual({ unread: listed.unread, mentions: listed.mentions }, { unread: 2, mentions: 0 });
});

test("room:list carries each room's own mention count", async () => {
  const a = await freshGroup();
  const b = await freshGroup();
  await send(ann.socket, a, "@bob one");
  await send(ann.socket, a, "@bob two");
  await send(ann.socket, b, "@carl_k only carl");
  const rooms = new Map((await ok(bob.socket, "room:list", {})).rooms.map((r) => [r.id, r]));
  assert.equal(rooms.get(a)?.mentions, 2);
  assert.equal(rooms.get(b)?.mentions, 0);
  assert.equal(rooms.get(b)?.unread, 1);
});

test("a member removed from a room is not mentioned there, and one added later is", async () => {
  const room = await freshGroup();
  await ok(ann.socket, "room:removeMember", { roomId: room, userId: carl.id });
  assert.deepEqual((await send(ann.socket, room, "@carl_k?")).mentions, []);
  await ok(ann.socket, "room:addMembers", { roomId: room, userIds: [dave.id] });
  assert.deepEqual((await send(ann.socket, room, "welcome @dave")).mentions, [dave.id]);
});

test("a send to a room the sender is not in is NOT_FOUND, whatever it mentions", async () => {
  expectError(
    await request(dave.socket, "message:send", { roomId, body: "@bob hi", clientId: clientId() }),
    "NOT_FOUND",
  );
  expectError(
    await request(ann.socket, "message:send", { roomId: MISSING_ID, body: "@bob", clientId: clientId() }),
    "NOT_FOUND",
  );
});
