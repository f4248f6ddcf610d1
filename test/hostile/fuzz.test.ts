/**
 * Property-based fuzzing of every client→server event (REQUEST_EVENTS) through a real
 * socket.io-client: arbitrary values, the event's own field names holding wrong types, huge
 * strings, deep nesting and `__proto__`/`constructor` keys. Every ack must be a contract ack
 * (never silence, never INTERNAL), Object.prototype must stay clean, and the heap must stay flat.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { ERROR_CODES, REQUEST_EVENTS, type RequestEvent } from "../../src/protocol/index.js";
import { requestFields } from "../../src/protocol/payloads.js";
import { request, startServer, type TestServer, type TestSocket } from "../support/harness.js";
import { heapAfterGc } from "../support/heap.js";
import { group, type Person, people, send } from "../support/rooms.js";

/** What a successful ack of each event carries besides `ok: true`. */
const RESULT: Record<RequestEvent, readonly string[]> = {
  "room:list": ["rooms", "next"],
  "room:members": ["members", "next"],
  "room:get": ["room"],
  "room:record": ["room"],
  "user:search": ["users"],
  "room:direct": ["room"],
  "room:create": ["room"],
  "room:update": ["room"],
  "room:addMembers": ["room"],
  "room:setRole": ["room"],
  "room:removeMember": ["room"],
  "room:leave": [],
  "message:send": ["message"],
  "message:history": ["messages", "hasMore"],
  "message:changes": ["messages", "rev", "hasMore"],
  "message:edit": ["message"],
  "message:delete": ["message"],
  "message:react": ["message"],
  "message:search": ["messages"],
  "room:read": ["readSeq"],
  "presence:get": ["presence"],
  "presence:visibility": [],
  typing: [],
  "session:refresh": ["expiresAt"],
  "room:notify": ["room"],
  "user:prefs:get": ["prefs"],
  "user:prefs:set": ["prefs"],
};

/** Runs per event and batch: 20 events × (1 warm-up + 4 measured batches) × 50 ≈ 5,000 payloads. */
const RUNS_PER_BATCH = 50;
const MEASURED_BATCHES = 4;
const HEAP_GROWTH_LIMIT = 20 * 1024 * 1024;

/** `depth` arrays or objects inside each other. */
function nested(depth: number, asObject: boolean): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = asObject ? { roomId: value } : [value];
  return value;
}

let server: TestServer;
let ann: Person;
let bob: Person;
let realIds: string[];
/** Values that pass validation, per field name, so "nearly valid" payloads reach the services. */
let validField: Record<string, fc.Arbitrary<unknown>>;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

before(async () => {
  const high = "1000000";
  server = await startServer({
    env: {
      // the fuzzer should reach the parsers and services, not stop at the rate limiter
      RATE_LIMIT_MESSAGES: high,
      RATE_LIMIT_TYPING: high,
      RATE_LIMIT_ROOM_OPS: high,
      RATE_LIMIT_SEARCHES: high,
      RATE_LIMIT_READS: high,
      // a few huge strings in several fields exceed the default 256 KB packet, which would close the socket
      MAX_PAYLOAD_BYTES: String(4 * 1024 * 1024),
    },
  });
  [ann, bob] = (await people(server, 2, "Fuzz")) as [Person, Person];
  // several rooms and messages, so a fuzzed room:leave or message:delete leaves others to work on
  const roomIds: string[] = [];
  const messageIds: string[] = [];
  for (let i = 0; i < 4; i++) {
    const room = await group(ann, [bob], `Fuzz room ${i}`);
    roomIds.push(room.id);
    messageIds.push((await send(ann.socket, room.id, `fuzz target ${i}`)).id);
    messageIds.push((await send(bob.socket, room.id, `fuzz target of bob ${i}`)).id);
  }
  // real ids let some payloads get past validation and into the services
  realIds = [...roomIds, ...messageIds, ann.id, bob.id];
  const seq = fc.nat({ max: 20 });
  // a real token of either fuzzing user (another's is FORBIDDEN), and one that only looks like one
  const tokens = [await server.token(ann.id), await server.token(bob.id), "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"];
  validField = {
    token: fc.constantFrom(...tokens),
    roomId: fc.constantFrom(...roomIds),
    messageId: fc.constantFrom(...messageIds),
    replyToId: fc.option(fc.constantFrom(...messageIds)),
    // ids of messages, not uploads: past the schema, the store must refuse them cleanly
    fileIds: fc.option(fc.array(fc.constantFrom(...messageIds), { maxLength: 3 }), { nil: undefined }),
    userId: fc.constantFrom(bob.id, ann.id),
    userIds: fc.array(fc.constantFrom(bob.id, ann.id), { maxLength: 3 }),
    memberIds: fc.array(fc.constantFrom(bob.id), { maxLength: 1 }),
    body: fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }),
    clientId: fc.string({ minLength: 1, maxLength: 64 }),
    query: fc.string({ unit: "grapheme", maxLength: 30 }),
    name: fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
    limit: fc.integer({ min: 1, max: 50 }),
    // history refuses both cursors together, so each is often left out
    beforeSeq: fc.option(seq, { nil: undefined }),
    afterSeq: fc.option(seq, { nil: undefined }),
    sinceRev: seq,
    seq,
    role: fc.constantFrom("admin", "member"),
    emoji: fc.constantFrom("👍", "🎉", "👨‍👩‍👧‍👦", "x"),
    on: fc.boolean(),
    typing: fc.boolean(),
    visible: fc.boolean(),
    notify: fc.constantFrom("all", "mentions", "none"),
    email: fc.option(fc.constantFrom("off", "digest"), { nil: undefined }),
    emailDelayMin: fc.option(fc.integer({ min: 1, max: 1440 }), { nil: undefined }),
    push: fc.option(fc.boolean(), { nil: undefined }),
    // (v2.4) urgent sends (FORBIDDEN for a plain member) and quiet hours
    urgent: fc.option(fc.boolean(), { nil: undefined }),
    quietHours: fc.constantFrom(undefined, null, { timeZone: "Europe/Lisbon", from: "22:00", to: "07:00" }),
    // a page cursor only comes from an answer: none (the first page), or one that does not decode
    cursor: fc.constantFrom(undefined, "abc"),
    // room:list's filter, and room:record's record (none of these has a room: NOT_FOUND)
    record: fc.constantFrom(undefined, true, false, { kind: "timesheet" }),
    kind: fc.constantFrom("timesheet", "leave"),
    recordId: fc.constantFrom("1", "2026-W49"),
  };
});
after(() => server.close());

function payloads(event: RequestEvent): fc.Arbitrary<unknown> {
  // read from the event's schema, so a new event or field is fuzzed without a copy here
  const fields = requestFields(event);
  const value: fc.Arbitrary<unknown> = fc.oneof(
    fc.anything({ maxDepth: 3, withTypedArray: true, withDate: true, withMap: true, withSet: true }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom(...realIds, "0", "-1", "1e3", "9".repeat(40), "", " ", "admin", "owner", "👍"),
    fc.integer({ min: 1, max: 20 }).map((k) => "é😀x".repeat(k * 1000)),
    fc.integer({ min: 10, max: 1500 }).chain((d) => fc.boolean().map((o) => nested(d, o))),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53, 1.5, -1, true, null),
  );
  const fieldRecord = fields.length
    ? fc.record(Object.fromEntries(fields.map((f) => [f, value])), { requiredKeys: [] })
    : fc.constant({});
  // JSON.parse makes "__proto__" an own key, exactly as the server's parser will see it
  const pollution = fc
    .tuple(fc.constantFrom("__proto__", "constructor", "prototype"), fieldRecord)
    .map(([key, record]) => ({
      ...JSON.parse(`{"${key}":{"polluted":"yes","prototype":{"polluted":"yes"}}}`),
      ...(record as object),
    }));
  // every field valid but now and then one hostile value: these get past the schema into the services
  const nearlyValid = fields.length
    ? fc.record(
        Object.fromEntries(
          fields.map((f) => {
            const valid = validField[f];
            assert.ok(valid, `no valid value for ${f}`);
            return [f, fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: value })];
          }),
        ),
      )
    : fc.constant({});
  const keys = fc.oneof(
    fc.constantFrom(...fields, "__proto__", "constructor", "toString", "valueOf"),
    fc.string(),
  );
  return fc.oneof(
    fc.anything({ maxDepth: 4 }),
    fieldRecord,
    nearlyValid,
    nearlyValid,
    pollution,
    fc.dictionary(keys, value, { maxKeys: 6 }),
  );
}

/** Fails unless `ack` is a contract ack: a typed error other than INTERNAL, or the event's result. */
function assertContractAck(event: RequestEvent, ack: unknown, payload: unknown): void {
  const shown = () =>
    `${event} ${JSON.stringify(payload)?.slice(0, 200)} → ${JSON.stringify(ack)?.slice(0, 300)}`;
  assert.ok(typeof ack === "object" && ack !== null, `not an object: ${shown()}`);
  const a = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (a.ok === false) {
    const code = a.error?.code;
    assert.ok(
      typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code),
      `unknown code: ${shown()}`,
    );
    assert.notEqual(code, "INTERNAL", `INTERNAL: ${shown()}`);
    assert.equal(typeof a.error?.message, "string", `no message: ${shown()}`);
    return;
  }
  assert.equal(a.ok, true, `neither ok nor an error: ${shown()}`);
  for (const key of RESULT[event]) assert.ok(key in (ack as object), `ok without ${key}: ${shown()}`);
}

/** Thrown when socket.io-client itself cannot encode a payload, so nothing reached the server. */
class ClientCannotEncode extends Error {}

/** Emits `event` with `payload` and resolves with the ack; rejects when none comes within 5 s. */
function ask(socket: TestSocket, event: RequestEvent, payload: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event} within 5 s`)), 5000);
    try {
      (socket.emit as (...args: unknown[]) => void)(event, payload, (ack: unknown) => {
        clearTimeout(timer);
        resolve(ack);
      });
    } catch (error) {
      // e.g. binary data beside a "__proto__" key: the client's binary packer assigns the key and
      // breaks its own copy; that is a client limitation, not something the server ever sees
      clearTimeout(timer);
      reject(new ClientCannotEncode(String(error)));
    }
  });
}

/**
 * Who sends each event. room:leave and message:delete go from Bob, so Ann stays in every room and
 * her messages survive for edits and reactions (Bob may delete only his own; Ann re-adds him
 * through fuzzed room:addMembers).
 */
const senderOf = (event: RequestEvent): TestSocket =>
  event === "room:leave" || event === "message:delete" ? bob.socket : ann.socket;

/** One batch: `runs` arbitrary payloads for every event, each answered with a contract ack. */
async function batch(runs: number): Promise<void> {
  for (const event of REQUEST_EVENTS) {
    await fc.assert(
      fc.asyncProperty(payloads(event), async (payload) => {
        let ack: unknown;
        try {
          ack = await ask(senderOf(event), event, payload);
        } catch (error) {
          fc.pre(!(error instanceof ClientCannotEncode));
          throw error;
        }
        assertContractAck(event, ack, payload);
      }),
      { numRuns: runs, endOnFailure: true },
    );
  }
}

async function internalErrorsCounted(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(
    /^timewise_chat_ack_latency_seconds_count\{[^}]*outcome="INTERNAL"[^}]*\} (\d+)/gm,
  )) {
    total += Number(match[1]);
  }
  return total;
}

test("thousands of arbitrary payloads get contract acks, no INTERNAL, no pollution and a flat heap", {
  timeout: 60_000,
}, async () => {
  await batch(RUNS_PER_BATCH); // warm-up: caches, prepared statements and JIT settle first
  const heapBefore = heapAfterGc();
  for (let i = 0; i < MEASURED_BATCHES; i++) await batch(RUNS_PER_BATCH);
  const growth = heapAfterGc() - heapBefore;
  assert.ok(growth < HEAP_GROWTH_LIMIT, `the heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB`);

  assert.equal(await internalErrorsCounted(), 0, "no request ended in INTERNAL (an unexpected error)");
  assert.deepEqual(
    Object.getOwnPropertyNames(Object.prototype).sort(),
    prototypeKeys,
    "Object.prototype keys",
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype is not polluted");
  // the fuzzed socket and its user still work, and a bystander still hears the room
  assert.equal(ann.socket.connected, true, "the fuzzed socket is still connected");
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const fresh = await server.connect(bob.user);
  assert.equal((await request(fresh, "room:list", {})).ok, true);
  fresh.close();
});
