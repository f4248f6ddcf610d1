/**
 * Conversations on a TimeWise record (PROTOCOL v2.4), through the contract with real sockets: the
 * PHP app attaches one room per record, idempotently (also from two nodes at once), and syncs its
 * members; a member finds it with `room:record`, anyone else gets NOT_FOUND; a member removed by a
 * sync loses the room at once (no more messages, history, changes or files); users can't leave,
 * rename or manage it; `room:list` filters on records.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Room } from "../../src/protocol/index.js";
import { ChatError } from "../../src/sdk/index.js";
import { download, uploadFile } from "../support/files.js";
import {
  collect,
  ok,
  request,
  requireService,
  startServer,
  TEST_REDIS_URL,
  type TestServer,
  until,
  waitFor,
} from "../support/harness.js";
import { attachRecord, putRecord, RECORDS_KEY } from "../support/records.js";
import {
  assertRoomShape,
  clientId,
  expectError,
  group,
  memberIds,
  type Person,
  person,
  roundTrip,
  send,
} from "../support/rooms.js";
import { sdkClient } from "../support/sdk.js";

const URL_OF = (id: string) => `https://timewise.example.com/timesheets/${id}`;
/** A record id no other test of the file uses. */
const freshId = () => `ts-${randomUUID().slice(0, 8)}`;

let server: TestServer;
before(async () => {
  server = await startServer({ env: { SERVICE_API_KEY: RECORDS_KEY } });
});
after(() => server.close());

test("attaching a record makes a group room named after it, carrying the record, and tells its members", async () => {
  const ann = await person(server, "Ann Record");
  const bob = await person(server, "Bob Record");
  const id = freshId();
  const told = waitFor(bob.socket, "room:updated", (r) => r.record?.id === id);
  const attached = await attachRecord(server, "timesheet", id, {
    title: "Timesheet week 49, Bob",
    url: URL_OF(id),
    memberIds: [ann.id, bob.id],
  });
  assert.equal(attached.status, 201);
  assert.equal(attached.created, true);
  assert.deepEqual(attached.added, [ann.id, bob.id]);
  const record = { kind: "timesheet", id, title: "Timesheet week 49, Bob", url: URL_OF(id) };
  assert.deepEqual(attached.room.record, record);
  assert.equal(attached.room.type, "group");
  assert.equal(attached.room.name, "Timesheet week 49, Bob");
  assert.deepEqual(memberIds(attached.room), [ann.id, bob.id].sort());
  assertRoomShape(attached.room, false);

  const heard = await told;
  assert.equal(heard.id, attached.room.id);
  assert.deepEqual(heard.record, record);
  const { room } = await ok(ann.socket, "room:get", { roomId: attached.room.id });
  assert.deepEqual(room.record, record);
  assertRoomShape(room);

  // an ordinary room says it is on no record
  const plain = await group(ann, [bob], "Plain group");
  assert.equal(plain.record, null);

  // members chat in it as in any group
  const arrives = waitFor(bob.socket, "message:new", (m) => m.roomId === room.id);
  const sent = await send(ann.socket, room.id, "Is Tuesday's overtime right?");
  assert.equal((await arrives).id, sent.id);
});

test("attaching the same record again gives the same room, changes nothing and sends nothing", async () => {
  const ann = await person(server);
  const id = freshId();
  const input = { title: "Leave request 12", url: URL_OF(id), memberIds: [ann.id] };
  const first = await attachRecord(server, "leave", id, input);
  const heard = collect(ann.socket, "room:updated");
  const again = await attachRecord(server, "leave", id, input);
  assert.equal(again.status, 200);
  assert.equal(again.room.id, first.room.id);
  assert.deepEqual([again.created, again.changed, again.added, again.removed], [false, false, [], []]);
  assert.equal(again.room.rev, first.room.rev);
  await roundTrip(ann.socket);
  assert.deepEqual(heard, []);
  // the same id under another kind is another record
  const other = await attachRecord(server, "shift", id, input);
  assert.notEqual(other.room.id, first.room.id);
});

test("ten attaches of one new record at the same moment make exactly one room", async () => {
  const ann = await person(server);
  const id = freshId();
  const answers = await Promise.all(
    Array.from({ length: 10 }, () =>
      attachRecord(server, "timesheet", id, { title: "Busy", url: URL_OF(id), memberIds: [ann.id] }),
    ),
  );
  assert.equal(new Set(answers.map((a) => a.room.id)).size, 1);
  assert.equal(answers.filter((a) => a.created).length, 1);
  const { rooms } = await ok(ann.socket, "room:list", { record: true });
  assert.deepEqual(
    rooms.filter((r) => r.record?.id === id).map((r) => r.id),
    [answers[0]!.room.id],
  );
});

test("a new title or link is synced and announced to the members", async () => {
  const ann = await person(server);
  const id = freshId();
  const first = await attachRecord(server, "project", id, {
    title: "Old name",
    url: URL_OF(id),
    memberIds: [ann.id],
  });
  const told = waitFor(ann.socket, "room:updated", (r) => r.id === first.room.id);
  const changed = await attachRecord(server, "project", id, {
    title: "New name",
    url: `${URL_OF(id)}?tab=chat`,
    memberIds: [ann.id],
  });
  assert.equal(changed.changed, true);
  const record = { kind: "project", id, title: "New name", url: `${URL_OF(id)}?tab=chat` };
  assert.deepEqual(changed.room.record, record);
  assert.deepEqual((await told).record, record);
  assert.equal(changed.room.name, "New name");
});

describe("a sync with other members", () => {
  let ann: Person;
  let bob: Person;
  let cat: Person;
  let room: Room;
  let recordId: string;
  let fileUrlForBob: string;

  before(async () => {
    ann = await person(server, "Ann Sync");
    bob = await person(server, "Bob Sync");
    cat = await person(server, "Cat Sync");
    recordId = freshId();
    const attached = await attachRecord(server, "timesheet", recordId, {
      title: "Timesheet to revoke",
      url: URL_OF(recordId),
      memberIds: [ann.id, bob.id],
    });
    room = (await ok(ann.socket, "room:get", { roomId: attached.room.id })).room;
    const file = await uploadFile(server.url, await server.token(ann.id), "hours.txt", Buffer.from("8h"));
    const toBob = waitFor(bob.socket, "message:new", (m) => m.roomId === room.id);
    await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "my hours",
      clientId: clientId(),
      fileIds: [file.id],
    });
    fileUrlForBob = (await toBob).files[0]!.url;
    assert.equal((await download(server.url, fileUrlForBob)).status, 200, "bob can download it first");
  });

  test("adds the new member, whose sockets join the room at once", async () => {
    const joined = waitFor(cat.socket, "room:updated", (r) => r.id === room.id);
    const synced = await attachRecord(server, "timesheet", recordId, {
      title: "Timesheet to revoke",
      url: URL_OF(recordId),
      memberIds: [ann.id, bob.id, cat.id],
    });
    assert.deepEqual([synced.added, synced.removed], [[cat.id], []]);
    assert.deepEqual(memberIds(await joined), [ann.id, bob.id, cat.id].sort());
    const arrives = waitFor(cat.socket, "message:new", (m) => m.roomId === room.id);
    const sent = await send(ann.socket, room.id, "welcome Cat");
    assert.equal((await arrives).id, sent.id);
    assert.equal((await ok(cat.socket, "room:record", { kind: "timesheet", recordId })).room.id, room.id);
  });

  test("removes a member mid-session: room:removed, no more messages, history, changes and files refused", async () => {
    const bob2 = await server.connect(bob.user);
    const removed = [bob.socket, bob2].map((s) => waitFor(s, "room:removed", (p) => p.roomId === room.id));
    const synced = await attachRecord(server, "timesheet", recordId, {
      title: "Timesheet to revoke",
      url: URL_OF(recordId),
      memberIds: [ann.id, cat.id],
    });
    assert.deepEqual([synced.added, synced.removed], [[], [bob.id]]);
    for (const p of await Promise.all(removed)) assert.deepEqual(p, { roomId: room.id });

    const leaked = [collect(bob.socket, "message:new"), collect(bob2, "message:new")];
    const toCat = waitFor(cat.socket, "message:new", (m) => m.body === "not for Bob");
    await send(ann.socket, room.id, "not for Bob");
    await toCat;
    await roundTrip(bob.socket, bob2);
    assert.deepEqual(
      leaked.map((l) => l.length),
      [0, 0],
    );
    for (const [event, payload] of [
      ["room:get", { roomId: room.id }],
      ["message:history", { roomId: room.id }],
      ["message:changes", { roomId: room.id, sinceRev: 0 }],
      ["room:record", { kind: "timesheet", recordId }],
    ] as const) {
      expectError(await request(bob.socket, event, payload), "NOT_FOUND", `${event} after removal`);
    }
    expectError(
      await request(bob.socket, "message:send", {
        roomId: room.id,
        body: "still here?",
        clientId: clientId(),
      }),
      "NOT_FOUND",
    );
    assert.equal((await download(server.url, fileUrlForBob)).status, 404, "bob's file link is dead");
    const listed = await ok(bob.socket, "room:list", {});
    assert.equal(
      listed.rooms.some((r) => r.id === room.id),
      false,
    );
    bob2.close();
  });
});

test("room:record gives a member the room, and NOT_FOUND to others and for records without one", async () => {
  const ann = await person(server);
  const eve = await person(server);
  const id = freshId();
  const attached = await attachRecord(server, "timesheet", id, {
    title: "Private timesheet",
    url: URL_OF(id),
    memberIds: [ann.id],
  });
  const { room } = await ok(ann.socket, "room:record", { kind: "timesheet", recordId: id });
  assert.equal(room.id, attached.room.id);
  assert.deepEqual(room.record, { kind: "timesheet", id, title: "Private timesheet", url: URL_OF(id) });
  assert.equal(room.readSeq, 0);
  assert.equal(room.unread, 0);

  // a non-member gets the same answer as for a record that has no room
  const refused = await request(eve.socket, "room:record", { kind: "timesheet", recordId: id });
  const none = await request(eve.socket, "room:record", { kind: "timesheet", recordId: freshId() });
  expectError(refused, "NOT_FOUND");
  expectError(none, "NOT_FOUND");
  assert.deepEqual(refused, none);
  expectError(await request(ann.socket, "room:record", { kind: "leave", recordId: id }), "NOT_FOUND");
  expectError(await request(eve.socket, "room:get", { roomId: room.id }), "NOT_FOUND");
});

test("the SDK's recordRoom finds the room and keeps it in its state; a record it can't see is a ChatError NOT_FOUND", async (t) => {
  const ann = await server.addUser("Ann Sdk");
  const id = freshId();
  const client = await sdkClient(t, server, ann);
  await assert.rejects(client.recordRoom("timesheet", id), (e: unknown) => {
    assert.ok(e instanceof ChatError);
    assert.equal(e.code, "NOT_FOUND");
    return true;
  });
  const attached = await attachRecord(server, "timesheet", id, {
    title: "Seen by the SDK",
    url: URL_OF(id),
    memberIds: [ann.id],
  });
  await until(() => client.state.room(attached.room.id) !== undefined, 5000, "room:updated in the SDK");
  const room = await client.recordRoom("timesheet", id);
  assert.equal(room.id, attached.room.id);
  assert.deepEqual(room.record, { kind: "timesheet", id, title: "Seen by the SDK", url: URL_OF(id) });
  assert.deepEqual(client.state.room(room.id)?.record, room.record);
});

test("users can't leave, rename, add, remove or promote in a record's room; a non-member gets NOT_FOUND", async () => {
  const ann = await person(server);
  const bob = await person(server);
  const eve = await person(server);
  const id = freshId();
  const { room } = await attachRecord(server, "timesheet", id, {
    title: "Managed by TimeWise",
    url: URL_OF(id),
    memberIds: [ann.id, bob.id],
  });
  // ann joined first: she is the room's owner, and still may not manage it
  assert.equal(room.members.find((m) => m.userId === ann.id)?.role, "owner");
  const heard = collect(bob.socket, "room:updated");
  for (const actor of [ann, bob]) {
    const tries = [
      ["room:leave", { roomId: room.id }],
      ["room:update", { roomId: room.id, name: "Renamed" }],
      ["room:addMembers", { roomId: room.id, userIds: [eve.id] }],
      ["room:removeMember", { roomId: room.id, userId: actor === ann ? bob.id : ann.id }],
      ["room:setRole", { roomId: room.id, userId: bob.id, role: "admin" }],
    ] as const;
    for (const [event, payload] of tries) {
      expectError(await request(actor.socket, event, payload), "FORBIDDEN", `${event} by ${actor.id}`);
      expectError(await request(eve.socket, event, payload), "NOT_FOUND", `${event} by a non-member`);
    }
  }
  const after = await ok(ann.socket, "room:get", { roomId: room.id });
  assert.deepEqual(memberIds(after.room), [ann.id, bob.id].sort());
  assert.equal(after.room.name, "Managed by TimeWise");
  assert.equal(after.room.rev, room.rev);
  await roundTrip(bob.socket);
  assert.deepEqual(heard, []);
  // leaving an ordinary group still works
  const plain = await group(ann, [bob], "Still leavable");
  await ok(bob.socket, "room:leave", { roomId: plain.id });
  expectError(await request(bob.socket, "room:get", { roomId: plain.id }), "NOT_FOUND");
});

test("room:list filters on records: only them, none of them, or one kind", async () => {
  const ann = await person(server);
  const plain = await group(ann, [], "Plain");
  const sheet = await attachRecord(server, "timesheet", freshId(), {
    title: "A timesheet",
    url: URL_OF("1"),
    memberIds: [ann.id],
  });
  const leave = await attachRecord(server, "leave", freshId(), {
    title: "A leave request",
    url: URL_OF("2"),
    memberIds: [ann.id],
  });
  const ids = async (payload: object) =>
    (await ok(ann.socket, "room:list", payload)).rooms.map((r) => r.id).sort();
  const all = [plain.id, sheet.room.id, leave.room.id].sort();
  assert.deepEqual(await ids({}), all);
  assert.deepEqual(await ids({ record: true }), [sheet.room.id, leave.room.id].sort());
  assert.deepEqual(await ids({ record: false }), [plain.id]);
  assert.deepEqual(await ids({ record: { kind: "leave" } }), [leave.room.id]);
  assert.deepEqual(await ids({ record: { kind: "shift" } }), []);
  // paging keeps the filter: one room a page, every record room once
  const first = await ok(ann.socket, "room:list", { record: true, limit: 1 });
  assert.ok(first.next !== null);
  const second = await ok(ann.socket, "room:list", { record: true, limit: 1, cursor: first.next });
  assert.equal(second.next, null);
  assert.deepEqual(
    [...first.rooms, ...second.rooms].map((r) => r.id).sort(),
    [sheet.room.id, leave.room.id].sort(),
  );
  for (const bad of ["yes", 1, null, {}, { kind: "Leave" }, { kind: "" }, [true]]) {
    expectError(await request(ann.socket, "room:list", { record: bad }), "BAD_REQUEST", JSON.stringify(bad));
  }
});

describe("PUT /api/server/records/:kind/:recordId checks what it is given", () => {
  let ann: Person;
  before(async () => {
    ann = await person(server);
  });

  const good = () => ({ title: "Fine", url: "https://timewise.example.com/x", memberIds: [ann.id] });

  test("a kind or record id with other characters is BAD_REQUEST, and no room is made", async () => {
    for (const [kind, id] of [
      ["Timesheet", "1"],
      ["time sheet", "1"],
      ["k".repeat(33), "1"],
      ["timesheet", "a/b"],
      ["timesheet", "a b"],
      ["timesheet", "9".repeat(65)],
      ["timesheet", "%E0%A4%A"],
    ] as const) {
      const r = await putRecord(server, kind, id, good());
      assert.equal(r.status, 400, `${kind} / ${id}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body.error as { code: string }).code, "BAD_REQUEST");
    }
    assert.equal((await ok(ann.socket, "room:list", { record: true })).rooms.length, 0);
  });

  test("a link that is not http or https, a bad title, and bad member lists are BAD_REQUEST", async () => {
    const id = freshId();
    for (const [label, body] of [
      ["javascript: link", { ...good(), url: "javascript:alert(1)" }],
      ["data: link", { ...good(), url: "data:text/html,<script>alert(1)</script>" }],
      ["ftp link", { ...good(), url: "ftp://timewise.example.com/x" }],
      ["relative link", { ...good(), url: "/timesheets/1" }],
      ["link with a password", { ...good(), url: "https://user:pw@timewise.example.com/x" }],
      ["2001-character link", { ...good(), url: `https://t.example/${"a".repeat(1983)}` }],
      ["no link", { title: "Fine", memberIds: [ann.id] }],
      ["empty title", { ...good(), title: "  " }],
      ["101-character title", { ...good(), title: "t".repeat(101) }],
      ["no members", { ...good(), memberIds: [] }],
      ["member ids as numbers", { ...good(), memberIds: [Number(ann.id)] }],
    ] as const) {
      const r = await putRecord(server, "timesheet", id, body);
      assert.equal(r.status, 400, `${label}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body.error as { code: string }).code, "BAD_REQUEST", label);
    }
    const unknown = await putRecord(server, "timesheet", id, { ...good(), memberIds: [ann.id, "987654321"] });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body.error, {
      code: "NOT_FOUND",
      message: "Some of these users do not exist.",
      details: { userIds: ["987654321"] },
    });
    assert.equal((await ok(ann.socket, "room:list", { record: true })).rooms.length, 0);
    const fine = await putRecord(server, "timesheet", id, {
      ...good(),
      url: "http://localhost:8080/t?id=1#chat",
    });
    assert.equal(fine.status, 201);
  });

  test("without the service key it is 401, and nothing is made", async () => {
    const r = await putRecord(server, "timesheet", freshId(), good(), `${RECORDS_KEY}-wrong`);
    assert.equal(r.status, 401);
  });
});

const redisMissing = await requireService("redis");

describe("two nodes", { skip: redisMissing }, () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const env = {
      SERVICE_API_KEY: RECORDS_KEY,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `twc-records-${randomUUID().slice(0, 8)}`,
    };
    a = await startServer({ env });
    b = await startServer({ env, sqlitePath: a.sqlitePath, database: a.database ?? undefined });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  test("attaching one record on both nodes at once makes one room, and a removal reaches the other node", async () => {
    const ann = await a.addUser("Ann Two");
    const bob = await a.addUser("Bob Two");
    const bobOnB = await b.connect(bob);
    const id = freshId();
    const input = { title: "Two nodes", url: URL_OF(id), memberIds: [ann.id, bob.id] };
    const answers = await Promise.all([
      attachRecord(a, "timesheet", id, input),
      attachRecord(b, "timesheet", id, input),
      attachRecord(a, "timesheet", id, input),
      attachRecord(b, "timesheet", id, input),
    ]);
    assert.equal(new Set(answers.map((r) => r.room.id)).size, 1);
    assert.equal(answers.filter((r) => r.created).length, 1);
    const roomId = answers[0]!.room.id;
    await until(
      async () => (await request(bobOnB, "room:record", { kind: "timesheet", recordId: id })).ok,
      5000,
      "the room on node b",
    );

    const removed = waitFor(bobOnB, "room:removed", (p) => p.roomId === roomId);
    await attachRecord(a, "timesheet", id, { ...input, memberIds: [ann.id] });
    await removed;
    // PostgreSQL answers from the database at once; nodes sharing a SQLite file re-read the room
    // when the other node's announcement comes, which may be just after room:removed
    await until(
      async () => !(await request(bobOnB, "message:history", { roomId })).ok,
      5000,
      "history refused on node b",
    );
    expectError(await request(bobOnB, "message:history", { roomId }), "NOT_FOUND");
    bobOnB.close();
  });
});
