/**
 * Hostile Unicode in message bodies, room names, reactions and search queries: bidi overrides,
 * zero-width characters, combining-mark floods, emoji sequences, astral characters, lone
 * surrogates and NUL. Each is either stored and returned exactly, on every path a client reads it
 * back (ack, broadcast, history, changes, REST, search), or refused with BAD_REQUEST: never
 * silently mangled (UTF-8 storage would turn a lone surrogate into U+FFFD, for example).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer, until, waitFor } from "../support/harness.js";
import { clientId, expectError, group, type Person, people } from "../support/rooms.js";

const MAX_MESSAGE_LENGTH = 4000;

/** Text that must come back exactly as sent. */
const KEPT: [string, string][] = [
  ["a right-to-left override", "price \u202E5$ 01\u202C ok"],
  ["left-to-right and pop marks", "\u202Aabc\u202B\u05D0\u05D1\u202C\u202C"],
  ["zero-width space, joiner and BOM", "a\u200Bb\u200Dc\uFEFFd"],
  ["a body that starts with a BOM", "\uFEFFstarts with a BOM"],
  ["only a zero-width space", "\u200B"],
  ["1 base letter with 3000 combining marks", `e${"\u0301".repeat(3000)}`],
  ["emoji ZWJ sequences", "👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏽‍💻 👁️‍🗨️"],
  ["flags and skin tones", "🇯🇵🇺🇦🏴󠁧󠁢󠁳󠁣󠁴󠁿 👍🏻👍🏽👍🏿"],
  ["astral characters", "𝕳𝖊𝖑𝖑𝖔 𐍈 𠜎 🀄 \u{10FFFD}"],
  ["noncharacters and private use", "\uFFFE\uFFFF\uE000\u{F0000}"],
  ["C0 and C1 controls other than NUL", "tab\tbell\u0007esc\u001B\u0085nel"],
];

/** Text that cannot be stored exactly, so it must be refused. */
const REFUSED: [string, string][] = [
  ["a lone high surrogate", "\ud800"],
  ["a lone low surrogate before a letter", "\udc00x"],
  ["a reversed surrogate pair", "\udc00\ud800"],
  ["a NUL character", "before\u0000after"],
];

/** A word no other message contains, for finding a message by search. */
const uniqueWord = () => `w${randomBytes(6).toString("hex")}`;

describe("hostile Unicode in messages", () => {
  let server: TestServer;
  let ann: Person;
  let bob: Person;
  let roomId: string;
  let annToken: string;

  before(async () => {
    server = await startServer({
      env: { MAX_MESSAGE_LENGTH: String(MAX_MESSAGE_LENGTH), RATE_LIMIT_SEARCHES: "100000" },
    });
    [ann, bob] = (await people(server, 2, "Unicode")) as [Person, Person];
    roomId = (await group(ann, [bob], "Unicode room")).id;
    annToken = await server.token(ann.id);
  });
  after(() => server.close());

  const rest = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${annToken}`, "content-type": "application/json" },
    });

  /** Every way a client reads a message back returns exactly `body`. */
  async function assertReadBackExactly(message: Message, body: string, word: string): Promise<void> {
    const history = await ok(bob.socket, "message:history", { roomId, afterSeq: message.seq - 1, limit: 1 });
    assert.equal(history.messages[0]?.id, message.id);
    assert.equal(history.messages[0]?.body, body, "message:history");
    const changes = await ok(bob.socket, "message:changes", { roomId, sinceRev: message.rev - 1, limit: 1 });
    assert.equal(changes.messages[0]?.body, body, "message:changes");
    const res = await rest(`/api/rooms/${roomId}/messages?afterSeq=${message.seq - 1}&limit=1`);
    assert.equal(res.status, 200);
    const page = (await res.json()) as { messages: Message[] };
    assert.equal(page.messages[0]?.body, body, "GET /api/rooms/:id/messages");
    // the index is built in the background, so the message shows up in search after a moment
    let found: Message | undefined;
    await until(
      async () => {
        const { messages } = await ok(ann.socket, "message:search", { query: word, roomId });
        found = messages.find((m) => m.id === message.id);
        return found !== undefined;
      },
      10_000,
      `message:search to find ${word}`,
    );
    assert.equal(found?.body, body, "message:search");
  }

  for (const [name, text] of KEPT) {
    test(`a body with ${name} is stored and read back exactly everywhere`, async () => {
      const word = uniqueWord();
      // the word follows the text directly after a space, so search must tokenize right next to it
      const body = `${text} ${word}`;
      const id = clientId();
      const heard = waitFor(bob.socket, "message:new", (m) => m.clientId === id);
      const { message } = await ok(ann.socket, "message:send", { roomId, body, clientId: id });
      assert.equal(message.body, body, "the ack");
      assert.equal((await heard).body, body, "the broadcast");
      await assertReadBackExactly(message, body, word);
    });
  }

  test("a word glued to zero-width and bidi characters is still found by message:search", async () => {
    // no spaces: the format characters themselves must separate the word from its neighbours
    // (the tokenizer doesn't split at the bidi isolates U+2066–U+2069; the indexer turns them into spaces)
    for (const glue of ["\u200B", "\u200D", "\uFEFF", "\u202E", "\u2060", "\u00AD", "\u2066", "\u2069"]) {
      const word = uniqueWord();
      const body = `before${glue}${word}${glue}after`;
      const { message } = await ok(ann.socket, "message:send", { roomId, body, clientId: clientId() });
      await assertReadBackExactly(message, body, word);
    }
  });

  for (const [name, text] of REFUSED) {
    test(`a body with ${name} is refused with BAD_REQUEST over the socket and over REST`, async () => {
      const body = `${text} ${uniqueWord()}`;
      expectError(
        await request(ann.socket, "message:send", { roomId, body, clientId: clientId() }),
        "BAD_REQUEST",
      );
      const res = await rest(`/api/rooms/${roomId}/messages`, {
        method: "POST",
        // JSON.stringify writes lone surrogates as \ud800 escapes, so the server really receives them
        body: JSON.stringify({ body, clientId: clientId() }),
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "BAD_REQUEST");
    });

    test(`an edit to a body with ${name} is refused and leaves the message unchanged`, async () => {
      const { message } = await ok(ann.socket, "message:send", {
        roomId,
        body: "original",
        clientId: clientId(),
      });
      expectError(
        await request(ann.socket, "message:edit", { messageId: message.id, body: text }),
        "BAD_REQUEST",
      );
      const { messages } = await ok(ann.socket, "message:history", {
        roomId,
        afterSeq: message.seq - 1,
        limit: 1,
      });
      assert.equal(messages[0]?.body, "original");
    });
  }

  test("a combining-mark flood one mark beyond MAX_MESSAGE_LENGTH code points is PAYLOAD_TOO_LARGE", async () => {
    const body = `e${"\u0301".repeat(MAX_MESSAGE_LENGTH)}`;
    expectError(
      await request(ann.socket, "message:send", { roomId, body, clientId: clientId() }),
      "PAYLOAD_TOO_LARGE",
    );
    const res = await rest(`/api/rooms/${roomId}/messages`, {
      method: "POST",
      body: JSON.stringify({ body, clientId: clientId() }),
    });
    assert.equal(res.status, 413);
    await res.body?.cancel();
  });

  test("astral characters count as one character each against MAX_MESSAGE_LENGTH", async () => {
    // 4000 code points but 8000 UTF-16 units: within the limit, stored whole
    const body = "😀".repeat(MAX_MESSAGE_LENGTH);
    const { message } = await ok(ann.socket, "message:send", { roomId, body, clientId: clientId() });
    assert.equal(message.body, body);
    expectError(
      await request(ann.socket, "message:send", { roomId, body: `${body}😀`, clientId: clientId() }),
      "PAYLOAD_TOO_LARGE",
    );
  });

  test("an edit to a body with a ZWJ emoji and an RTL override is stored exactly", async () => {
    const { message } = await ok(ann.socket, "message:send", {
      roomId,
      body: "to edit",
      clientId: clientId(),
    });
    const body = "👩🏽‍🚀 \u202Etide\u202C \u200B";
    const updated = waitFor(bob.socket, "message:updated", (m) => m.id === message.id);
    assert.equal((await ok(ann.socket, "message:edit", { messageId: message.id, body })).message.body, body);
    assert.equal((await updated).body, body, "the broadcast");
    const { messages } = await ok(bob.socket, "message:history", {
      roomId,
      afterSeq: message.seq - 1,
      limit: 1,
    });
    assert.equal(messages[0]?.body, body);
  });

  test("reactions with ZWJ sequences, flags and skin tones are kept as distinct exact keys", async () => {
    const { message } = await ok(ann.socket, "message:send", {
      roomId,
      body: "react here",
      clientId: clientId(),
    });
    const emoji = ["👨‍👩‍👧‍👦", "👍🏽", "👍", "🇺🇦", "🏳️‍🌈"];
    for (const e of emoji)
      await ok(bob.socket, "message:react", { messageId: message.id, emoji: e, on: true });
    const { messages } = await ok(ann.socket, "message:history", {
      roomId,
      afterSeq: message.seq - 1,
      limit: 1,
    });
    assert.deepEqual(Object.keys(messages[0]?.reactions ?? {}).sort(), [...emoji].sort());
    for (const e of ["\ud83d", "👍\u0000"]) {
      expectError(
        await request(bob.socket, "message:react", { messageId: message.id, emoji: e, on: true }),
        "BAD_REQUEST",
      );
    }
  });

  test("message:search with hostile characters in the query answers a list of the room's messages", async () => {
    for (const [, text] of [...KEPT, ["", "\u202E"], ["", `"*^:() OR NEAR`]] as [string, string][]) {
      const query = [...text].slice(0, 200).join("");
      // text that can be stored can be searched for: never refused, and only this room's messages
      const { messages } = await ok(ann.socket, "message:search", { query, roomId });
      assert.deepEqual(
        messages.filter((m) => m.roomId !== roomId),
        [],
        `search for ${JSON.stringify(query.slice(0, 20))}`,
      );
    }
    for (const [, text] of REFUSED) {
      expectError(await request(ann.socket, "message:search", { query: text }), "BAD_REQUEST");
    }
  });
});

describe("hostile Unicode in room names and user search", () => {
  let server: TestServer;
  let ann: Person;
  let bob: Person;

  before(async () => {
    server = await startServer({ env: { RATE_LIMIT_ROOM_OPS: "100000", RATE_LIMIT_SEARCHES: "100000" } });
    [ann, bob] = (await people(server, 2, "Names")) as [Person, Person];
  });
  after(() => server.close());

  const NAMES: [string, string][] = [
    ["a right-to-left override", "Team \u202Egnp.exe\u202C room"],
    ["zero-width characters", "Team a\u200Bb\u200Dc\uFEFFd room"],
    ["emoji sequences", "Team 👨‍👩‍👧‍👦🇯🇵👍🏿 room"],
    ["astral characters", "Team 𝕳𝖊𝖑𝖑𝖔 𠜎 room"],
    ["combining marks", `Team e${"\u0301".repeat(80)}`],
  ];
  for (const [name, roomName] of NAMES) {
    test(`a room name with ${name} is stored, listed and broadcast exactly`, async () => {
      const heard = waitFor(bob.socket, "room:updated", (r) => r.name === roomName);
      const { room } = await ok(ann.socket, "room:create", { name: roomName, memberIds: [bob.id] });
      assert.equal(room.name, roomName, "the ack");
      assert.equal((await heard).id, room.id, "the broadcast");
      const { rooms } = await ok(bob.socket, "room:list", {});
      assert.equal(rooms.find((r) => r.id === room.id)?.name, roomName, "room:list");
      const renamed = `${roomName} 2`;
      assert.equal(
        (await ok(ann.socket, "room:update", { roomId: room.id, name: renamed })).room.name,
        renamed,
      );
    });
  }

  for (const [name, text] of REFUSED) {
    test(`a room name with ${name} is refused with BAD_REQUEST when creating and renaming`, async () => {
      expectError(
        await request(ann.socket, "room:create", { name: `Team ${text}`, memberIds: [] }),
        "BAD_REQUEST",
      );
      const room = await group(ann, [bob], "Plain name");
      expectError(
        await request(ann.socket, "room:update", { roomId: room.id, name: `Team ${text}` }),
        "BAD_REQUEST",
      );
      assert.equal((await ok(ann.socket, "room:get", { roomId: room.id })).room.name, "Plain name");
    });
  }

  test("user:search finds a user whose name holds bidi and emoji characters and returns the name exactly", async () => {
    const weird = await server.addUser("Zoë \u202Eevil\u202C 👩🏽‍💻");
    // user:search looks through the whole directory, so no shared room is needed
    const { users } = await ok(ann.socket, "user:search", { query: "Zoë" });
    assert.equal(users.find((u) => u.id === weird.id)?.name, "Zoë \u202Eevil\u202C 👩🏽‍💻");
  });

  test("user:search with hostile characters in the query answers a list, never the caller", async () => {
    for (const [, text] of [...KEPT, ...NAMES]) {
      const query = [...text].slice(0, 200).join("");
      const { users } = await ok(ann.socket, "user:search", { query });
      assert.equal(
        users.some((u) => u.id === ann.id),
        false,
        `user search for ${JSON.stringify(query.slice(0, 20))}`,
      );
    }
    for (const [, text] of REFUSED)
      expectError(await request(ann.socket, "user:search", { query: text }), "BAD_REQUEST");
  });
});
