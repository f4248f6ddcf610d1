/**
 * Malformed payloads as a whole, table-tested: for every client→server event, payloads of the wrong
 * shape (null, numbers, strings, arrays, binary, deep objects, "__proto__" tricks) get an ack with
 * BAD_REQUEST, unknown fields are ignored, an event without payload or without ack crashes nothing,
 * and the socket and the server keep working afterwards.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { REQUEST_EVENTS, type RequestEvent } from "../../src/protocol/index.js";
import { request, waitFor } from "../support/harness.js";
import { clientId, group, person, send } from "../support/rooms.js";
import {
  type Answer,
  BAD,
  deep,
  fixture,
  long,
  run,
  SPEC_ENTRIES,
  stillWorks,
  useKit,
} from "./malformed-cases.js";

const kit = useKit();

/**
 * Events whose payload has no required field (v2.3's settings): `{}` and objects of unknown
 * fields are valid, so they get the table of room:list below instead of the wrong-shape one.
 */
const ALL_OPTIONAL = new Set<string>(["user:prefs:get", "user:prefs:set"]);

for (const [event, spec] of SPEC_ENTRIES) {
  if (ALL_OPTIONAL.has(event)) continue;
  test(`${event} answers BAD_REQUEST to payloads of the wrong shape and ignores unknown fields`, async () => {
    const f = await fixture(kit());
    const valid = spec.valid(f);
    const polluting = { ...valid, polluted: true };
    const table: [string, unknown, Answer][] = [
      ["undefined", undefined, BAD],
      ["null", null, BAD],
      ["a number", 42, BAD],
      ["a string", "str", BAD],
      ["true", true, BAD],
      ["an empty array", [], BAD],
      ["[{}]", [{}], BAD],
      ["the valid payload in an array", [valid], BAD],
      ["a 100k-character string", long, BAD],
      ["binary data", new Uint8Array([1, 2, 3]), BAD],
      ["a deeply nested object", deep(), BAD],
      ["an empty object", {}, BAD],
      ["{ roomId: 1 }", { roomId: 1 }, BAD],
      ['{ roomId: "abc" }', { roomId: "abc" }, BAD],
      [
        'JSON with the fields under "__proto__"',
        JSON.parse(`{"__proto__": ${JSON.stringify(polluting)}}`),
        BAD,
      ],
      ["the fields under constructor.prototype", { constructor: { prototype: polluting } }, BAD],
    ];
    assert.deepEqual(await run(f, event, table), [], `${event}: unexpected answers`);
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false, "Object.prototype was polluted");
    const extra = {
      ...spec.valid(f),
      unknownField: "ignored",
      nested: deep(50),
      senderId: kit().bob.id,
      seq: 99,
    };
    const res = await request(f.owner.socket, event, extra);
    assert.ok(res.ok, `${event} with unknown fields should succeed: ${JSON.stringify(res).slice(0, 300)}`);
    await stillWorks(f);
  });
}

test("room:list answers BAD_REQUEST to non-object payloads and ignores unknown fields", async () => {
  const f = await fixture(kit());
  const wrong = await run(f, "room:list", [
    ["a number", 42, BAD],
    ["a string", "str", BAD],
    ["true", true, BAD],
    ["an empty array", [], BAD],
    ["[{}]", [{}], BAD],
    ["a 100k-character string", long, BAD],
    ["binary data", new Uint8Array([1]), BAD],
    ["null", null, BAD],
    [
      "an object with unknown fields",
      { roomId: 1, nested: deep(), constructor: { prototype: { x: 1 } } },
      "ok",
    ],
  ]);
  assert.deepEqual(wrong, []);
  await stillWorks(f);
});

for (const event of ALL_OPTIONAL) {
  test(`${event} answers BAD_REQUEST to non-object payloads and ignores unknown fields`, async () => {
    const f = await fixture(kit());
    const wrong = await run(f, event as RequestEvent, [
      ["a number", 42, BAD],
      ["a string", "str", BAD],
      ["true", true, BAD],
      ["an empty array", [], BAD],
      ["[{}]", [{}], BAD],
      ["a 100k-character string", long, BAD],
      ["binary data", new Uint8Array([1]), BAD],
      ["null", null, BAD],
      ["an empty object", {}, "ok"],
      [
        "an object with unknown fields",
        { roomId: 1, nested: deep(), constructor: { prototype: { x: 1 } } },
        "ok",
      ],
    ]);
    assert.deepEqual(wrong, []);
    await stillWorks(f);
  });
}

test("an event sent with its ack but no payload is answered BAD_REQUEST, except room:list, which lists", async () => {
  const f = await fixture(kit());
  const wrong: string[] = [];
  for (const event of REQUEST_EVENTS) {
    const answer = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("no ack"), 3000);
      (f.owner.socket.emit as (...args: unknown[]) => void)(
        event,
        (res: { ok: boolean; error?: { code: string } }) => {
          clearTimeout(timer);
          resolve(res.ok ? "ok" : (res.error?.code ?? "?"));
        },
      );
    });
    // room:list takes no payload at all (PROTOCOL.md: "No payload, or a plain object"), and
    // user:prefs:get, which asks nothing, takes none either
    const expected = event === "room:list" || event === "user:prefs:get" ? "ok" : "BAD_REQUEST";
    if (answer !== expected) wrong.push(`${event}: ${answer}, not ${expected}`);
  }
  assert.deepEqual(wrong, []);
  await stillWorks(f);
});

test("events without an ack callback, valid or not, crash nothing", async () => {
  const f = await fixture(kit());
  const emit = f.owner.socket.emit as (...args: unknown[]) => void;
  for (const event of REQUEST_EVENTS) {
    for (const payload of [undefined, null, 42, "str", [], { roomId: "abc" }, deep()])
      emit.call(f.owner.socket, event, payload);
    emit.call(f.owner.socket, event);
  }
  for (const [event, spec] of SPEC_ENTRIES) emit.call(f.owner.socket, event, spec.valid(f));
  // the server handles one socket's events in the order they came: a last un-acked message, seen
  // arriving in the owner's own room, shows that everything before it was taken in
  const last = { roomId: f.spare.id, body: "the last un-acked event", clientId: clientId() };
  const arrived = waitFor(f.owner.socket, "message:new", (m) => m.body === last.body);
  emit.call(f.owner.socket, "message:send", last);
  assert.equal((await arrived).roomId, f.spare.id);
  assert.equal(f.owner.socket.connected, true);
  await stillWorks(f);
});

test("after all the malformed payloads the server still accepts connections and messages", async () => {
  const a = await person(kit().server);
  const b = await person(kit().server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id, "the server is fine");
  assert.equal(m.seq, 1);
  assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
});
