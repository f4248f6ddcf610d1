/**
 * The malformed-payload table shared by malformed-fields.test.ts and malformed-payloads.test.ts:
 * for every client→server event a valid payload and, per field, the wrong values with the one
 * answer each must get (BAD_REQUEST; PAYLOAD_TOO_LARGE for an oversized message body). One answer
 * per case, never a choice: a table that accepts either of two codes cannot tell them apart.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import type { ErrorCode, Message, RequestEvent, Room } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer, type TestUser } from "../support/harness.js";
import { attachRecord, RECORDS_KEY } from "../support/records.js";
import { clientId, group, type Person, person, send } from "../support/rooms.js";

/**
 * One kit for the whole test file: a server with the two bystanders, started before its tests and
 * closed after them (each test still makes a fresh caller with `fixture`). Call once, at the top
 * level of a test file; the kit is there inside its tests.
 */
export function useKit(): () => Kit {
  let kit: Kit | undefined;
  before(async () => {
    // the service key lets each fixture attach a record's conversation, for room:record
    const server = await startServer({ env: { SERVICE_API_KEY: RECORDS_KEY } });
    kit = {
      server,
      bob: await server.addUser("Bob Bystander"),
      carl: await server.addUser("Carl Candidate"),
    };
  });
  after(async () => {
    await kit?.server.close();
  });
  return () => {
    if (!kit) throw new Error("the kit is started in the test file's before hook");
    return kit;
  };
}

/** A server with two bystanders every fixture can name in payloads. */
export interface Kit {
  server: TestServer;
  bob: TestUser;
  carl: TestUser;
}

/** A caller's room, message and spare room, plus the kit's bystanders. */
export interface Fixture extends Kit {
  owner: Person;
  room: Room;
  spare: Room;
  message: Message;
  /** a fresh token of the owner, for session:refresh */
  ownerToken: string;
  /** a record whose conversation the owner is in */
  record: { kind: string; recordId: string };
}
/** The one answer a case must get: an error code, or "ok" where the payload is in fact valid. */
export type Answer = ErrorCode | "ok";
export type Case = [label: string, value: unknown, expect: Answer];
export type Field = (f: Fixture) => Case[];

export const BAD: Answer = "BAD_REQUEST";
const MISSING = Symbol("missing");
export const long = "x".repeat(100_000);
export const deep = (depth = 2000): unknown => {
  let node: unknown = { leaf: "x" };
  for (let i = 0; i < depth; i++) node = { a: node };
  return node;
};

const shapes = (required: boolean): Case[] => [
  ...(required
    ? ([
        ["missing", MISSING, BAD],
        ["null", null, BAD],
      ] as Case[])
    : []),
  ["an empty array", [], BAD],
  ["an empty object", {}, BAD],
  ["true", true, BAD],
  ["a deeply nested object", deep(), BAD],
];
const id =
  (pick: (f: Fixture) => string, required = true): Field =>
  (f) => {
    const valid = pick(f);
    return [
      ...shapes(required),
      ["a number", Number(valid), BAD],
      ["the id in an array", [valid], BAD],
      ["an object holding the id", { id: valid }, BAD],
      ["letters", "abc", BAD],
      ["an empty string", "", BAD],
      ["a fraction", `${valid}.5`, BAD],
      ["a negative number", `-${valid}`, BAD],
      ["a padded id", ` ${valid} `, BAD],
      ["hexadecimal", "0x10", BAD],
      ["an exponent", "1e3", BAD],
      // past the longest id the schema takes, so refused before any lookup
      ["30 digits", "9".repeat(30), BAD],
      ["100k characters", long, BAD],
    ];
  };
const text =
  (...extra: Case[]): Field =>
  () => [
    ...shapes(true),
    ["a number", 42, BAD],
    ["an array of text", ["hi"], BAD],
    ["a NUL character", "a\u0000b", BAD],
    ["a lone high surrogate", "a\ud800b", BAD],
    ["a lone low surrogate", "\udc00", BAD],
    ...extra,
  ];
const int =
  (required: boolean): Field =>
  () => [
    ...shapes(required),
    ["a numeric string", "1", BAD],
    ["a fraction", 1.5, BAD],
    ["a negative number", -1, BAD],
    ["a number in an array", [1], BAD],
  ];
const limit =
  (max: number): Field =>
  () => [
    ...shapes(false),
    ...[0, max + 1, 2.5, "10", -1, [5]].map((v): Case => [`limit ${JSON.stringify(v)}`, v, BAD]),
  ];
const bool: Field = () => [
  ...shapes(true).filter(([label]) => label !== "true"),
  ...["true", "false", 1, 0].map((v): Case => [JSON.stringify(v), v, BAD]),
];
const role: Field = () => [
  ...shapes(true),
  ...["owner", "ADMIN", "", 1, ["admin"]].map((v): Case => [`role ${JSON.stringify(v)}`, v, BAD]),
];
const idList =
  (pick: (f: Fixture) => string): Field =>
  (f) => [
    // an empty list is valid for room:create and presence:get
    ...shapes(true).filter(([label]) => label !== "an empty array"),
    ["a single id string", pick(f), BAD],
    ["numbers", [Number(pick(f))], BAD],
    ["letters", ["abc"], BAD],
    ["null inside", [null], BAD],
    ["nested arrays", [[pick(f)]], BAD],
    ["a valid and an invalid id", [pick(f), "x"], BAD],
  ];

/** Files to send with a message: at most 10 ids, each once, each of an upload of the sender's. */
const fileIdList: Field = (f) => [
  // an empty list is valid: a message without files
  ...shapes(false).filter(([label]) => label !== "an empty array"),
  ["a single id string", f.message.id, BAD],
  ["numbers", [Number(f.message.id)], BAD],
  ["letters", ["abc"], BAD],
  ["null inside", [null], BAD],
  ["the same id twice", ["5", "5"], BAD],
  ["11 ids", Array.from({ length: 11 }, (_, i) => String(i + 1)), BAD],
  // well formed, but no upload of the sender's has it: the store refuses it
  ["an id no upload has", ["987654321"], BAD],
];

/** A record's kind: short lower-case words, as it becomes part of the room's key. */
const recordKindField: Field = () => [
  ...shapes(true),
  ["a number", 42, BAD],
  ["an empty string", "", BAD],
  ["capitals", "Timesheet", BAD],
  ["a space", "time sheet", BAD],
  ["a slash", "time/sheet", BAD],
  ["a digit first", "1sheet", BAD],
  ["33 characters", "k".repeat(33), BAD],
  ["100k characters", long, BAD],
];
/** A record's id in the PHP app: no slash, no space, at most 64 characters. */
const recordIdField: Field = () => [
  ...shapes(true),
  ["a number", 42, BAD],
  ["an empty string", "", BAD],
  ["a slash", "2026/49", BAD],
  ["a space", "2026 49", BAD],
  ["a NUL character", "a\u0000b", BAD],
  ["65 characters", "9".repeat(65), BAD],
  ["100k characters", long, BAD],
];

/** A paging cursor: only what an earlier answer's `next` gave is valid. */
const cursorField: Field = () => [
  ...shapes(false),
  ["a number", 1, BAD],
  ["an empty string", "", BAD],
  ["not a cursor", "abc", BAD],
  ["a cursor of another list", Buffer.from('["2026-01-01T00:00:00.000Z","1"]').toString("base64url"), BAD],
  ["201 characters", "c".repeat(201), BAD],
];

/** One of a fixed set of words (v2.3 settings): other words, other cases and other types are refused. */
const oneOf =
  (required: boolean, ...wrong: unknown[]): Field =>
  () => [
    ...shapes(required),
    ...[...wrong, "", 1, ["all"]].map((v): Case => [`the value ${JSON.stringify(v)}`, v, BAD]),
  ];
/** An optional true/false. */
const optionalBool: Field = () => [
  ...shapes(false).filter(([label]) => label !== "true"),
  ...["true", "false", 1, 0, null].map((v): Case => [JSON.stringify(v), v, BAD]),
];
/** emailDelayMin: whole minutes from 1 to 1440. */
const delayMinutes: Field = () => [
  ...shapes(false),
  ...[0, 1441, 2.5, "10", -1, [10], null].map((v): Case => [`minutes ${JSON.stringify(v)}`, v, BAD]),
];

/** (v2.4) Quiet hours: an IANA zone and two different "HH:MM" times, or null to remove them. */
const quietHoursField: Field = () => [
  ...shapes(false),
  ["a string", "22:00-07:00", BAD],
  ["an unknown zone", { timeZone: "Mars/Olympus", from: "22:00", to: "07:00" }, BAD],
  ["no zone", { from: "22:00", to: "07:00" }, BAD],
  ["a 12-hour time", { timeZone: "Europe/Lisbon", from: "10pm", to: "07:00" }, BAD],
  ["hour 24", { timeZone: "Europe/Lisbon", from: "22:00", to: "24:00" }, BAD],
  ["the same time twice", { timeZone: "Europe/Lisbon", from: "07:00", to: "07:00" }, BAD],
  ["100k characters of zone", { timeZone: long, from: "22:00", to: "07:00" }, BAD],
];

/** Each event: a valid payload for the fixture, and the wrong values of each of its fields. */
export const SPECS: Record<
  Exclude<RequestEvent, "room:list">,
  { valid: (f: Fixture) => object; fields: Record<string, Field> }
> = {
  "room:get": { valid: (f) => ({ roomId: f.room.id }), fields: { roomId: id((f) => f.room.id) } },
  "room:record": {
    valid: (f) => f.record,
    fields: { kind: recordKindField, recordId: recordIdField },
  },
  "room:members": {
    valid: (f) => ({ roomId: f.room.id }),
    fields: { roomId: id((f) => f.room.id), limit: limit(500), cursor: cursorField },
  },
  "user:search": {
    valid: () => ({ query: "bob" }),
    fields: { query: text(["100k characters", long, BAD]), limit: limit(50) },
  },
  "room:direct": { valid: (f) => ({ userId: f.bob.id }), fields: { userId: id((f) => f.bob.id) } },
  "room:create": {
    valid: (f) => ({ name: "Fresh", memberIds: [f.bob.id] }),
    fields: {
      name: text(
        ["empty", "", BAD],
        ["blank", "   ", BAD],
        ["101 characters", "n".repeat(101), BAD],
        ["100k", long, BAD],
      ),
      memberIds: idList((f) => f.bob.id),
    },
  },
  "room:update": {
    valid: (f) => ({ roomId: f.room.id, name: "Renamed" }),
    fields: {
      roomId: id((f) => f.room.id),
      name: text(["empty", "", BAD], ["blank", " \t", BAD], ["100k", long, BAD]),
    },
  },
  "room:addMembers": {
    valid: (f) => ({ roomId: f.room.id, userIds: [f.carl.id] }),
    fields: { roomId: id((f) => f.room.id), userIds: idList((f) => f.carl.id) },
  },
  "room:setRole": {
    valid: (f) => ({ roomId: f.room.id, userId: f.bob.id, role: "admin" }),
    fields: { roomId: id((f) => f.room.id), userId: id((f) => f.bob.id), role },
  },
  "room:removeMember": {
    valid: (f) => ({ roomId: f.room.id, userId: f.bob.id }),
    fields: { roomId: id((f) => f.room.id), userId: id((f) => f.bob.id) },
  },
  "room:leave": { valid: (f) => ({ roomId: f.room.id }), fields: { roomId: id((f) => f.room.id) } },
  "message:send": {
    valid: (f) => ({ roomId: f.room.id, body: "valid body", clientId: clientId() }),
    fields: {
      roomId: id((f) => f.room.id),
      body: text(
        ["empty", "", BAD],
        ["blank", " \n\t ", BAD],
        ["100k characters", long, "PAYLOAD_TOO_LARGE"],
      ),
      clientId: text(["empty", "", BAD], ["65 characters", "c".repeat(65), BAD], ["100k", long, BAD]),
      replyToId: id((f) => f.message.id, false),
      fileIds: fileIdList,
      urgent: optionalBool,
    },
  },
  "message:history": {
    valid: (f) => ({ roomId: f.room.id }),
    fields: { roomId: id((f) => f.room.id), beforeSeq: int(false), afterSeq: int(false), limit: limit(100) },
  },
  "message:changes": {
    valid: (f) => ({ roomId: f.room.id, sinceRev: 0 }),
    fields: { roomId: id((f) => f.room.id), sinceRev: int(true), limit: limit(500) },
  },
  "message:edit": {
    valid: (f) => ({ messageId: f.message.id, body: "edited" }),
    fields: {
      messageId: id((f) => f.message.id),
      body: text(["empty", "", BAD], ["100k", long, "PAYLOAD_TOO_LARGE"]),
    },
  },
  "message:delete": {
    valid: (f) => ({ messageId: f.message.id }),
    fields: { messageId: id((f) => f.message.id) },
  },
  "message:react": {
    valid: (f) => ({ messageId: f.message.id, emoji: "👍", on: true }),
    fields: {
      messageId: id((f) => f.message.id),
      emoji: text(["empty", "", BAD], ["33 characters", "e".repeat(33), BAD], ["100k", long, BAD]),
      on: bool,
    },
  },
  "message:search": {
    valid: (f) => ({ query: "valid", roomId: f.room.id }),
    fields: {
      query: text(["100k characters", long, BAD]),
      roomId: id((f) => f.room.id, false),
      limit: limit(50),
    },
  },
  "room:read": {
    valid: (f) => ({ roomId: f.room.id, seq: 1 }),
    fields: { roomId: id((f) => f.room.id), seq: int(true) },
  },
  typing: {
    valid: (f) => ({ roomId: f.room.id, typing: true }),
    fields: { roomId: id((f) => f.room.id), typing: bool },
  },
  "presence:visibility": { valid: () => ({ visible: true }), fields: { visible: bool } },
  "presence:get": { valid: (f) => ({ userIds: [f.bob.id] }), fields: { userIds: idList((f) => f.bob.id) } },
  "session:refresh": {
    valid: (f) => ({ token: f.ownerToken }),
    fields: { token: text(["100k characters", long, BAD], ["not a JWT", "not a token", BAD]) },
  },
  "room:notify": {
    valid: (f) => ({ roomId: f.room.id, notify: "mentions" }),
    fields: { roomId: id((f) => f.room.id), notify: oneOf(true, "ALL", "mention", "off", null) },
  },
  "user:prefs:get": { valid: () => ({}), fields: {} },
  "user:prefs:set": {
    valid: () => ({ push: false }),
    fields: {
      email: oneOf(false, "DIGEST", "on", "none", null),
      emailDelayMin: delayMinutes,
      push: optionalBool,
      quietHours: quietHoursField,
    },
  },
};

/** SPECS as [event, spec] pairs, typed, for a file that makes tests of each event. */
export const SPEC_ENTRIES = Object.entries(SPECS) as [
  keyof typeof SPECS,
  (typeof SPECS)[keyof typeof SPECS],
][];

/** A fresh caller (so rate limits never interfere) who owns a room with a message, and a spare room. */
export async function fixture(kit: Kit): Promise<Fixture> {
  const owner = await person(kit.server);
  const room = await group(owner, [kit.bob], "Target");
  const spare = await group(owner, [], "Spare");
  const message = await send(owner.socket, room.id, "valid message");
  const ownerToken = await kit.server.token(owner.id);
  const record = { kind: "fixture", recordId: `r-${owner.id}` };
  await attachRecord(kit.server, record.kind, record.recordId, {
    title: "A fixture's record",
    url: "https://timewise.example.com/records/1",
    memberIds: [owner.id],
  });
  return { ...kit, owner, room, spare, message, ownerToken, record };
}

/** Sends every case; returns a line for each answer that was not the expected error. */
export async function run(
  f: Fixture,
  event: RequestEvent,
  cases: [label: string, payload: unknown, expect: Answer][],
) {
  const wrong: string[] = [];
  for (const [label, payload, expect] of cases) {
    const res = await request(f.owner.socket, event, payload).catch((e: Error) => ({ timeout: e.message }));
    const code = "timeout" in res ? "no ack" : res.ok ? "ok" : res.error.code;
    if (code !== expect) wrong.push(`${label}: ${code}, not ${expect}`);
  }
  return wrong;
}

/** The socket still works: it can list rooms and send a message. */
export async function stillWorks(f: Fixture) {
  await ok(f.owner.socket, "room:list", {});
  assert.equal((await send(f.owner.socket, f.spare.id, "still here")).roomId, f.spare.id);
}

export const withValid = (valid: object, field: string, value: unknown) => {
  const payload: Record<string, unknown> = { ...valid };
  if (value === MISSING) delete payload[field];
  else payload[field] = value;
  return payload;
};
