/**
 * Forced membership: anyone may add anyone to groups, so a victim's room list must stay usable
 * however many groups they were put in. `room:list` pages (`{ limit, cursor }` → `{ rooms, next }`),
 * each listed room carries at most LIMITS.listMembersMax members, MAX_GROUPS_PER_USER caps the
 * groups one person is in, and an answer the client asked for never drops its connection, even
 * past the outbound cap (MAX_QUEUED_BYTES).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LIMITS, type Room } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer, until } from "../support/harness.js";
import { RawPolling } from "../support/raw-engine.js";
import { expectError, group, type Person, people, person, send } from "../support/rooms.js";
import { sdkClient } from "../support/sdk.js";

const HIGH = "1000000";
const NO_LIMITS = { RATE_LIMIT_ROOM_OPS: HIGH, RATE_LIMIT_MESSAGES: HIGH, RATE_LIMIT_READS: HIGH };

/** Every page of `room:list` with `limit`, and the pages' sizes. */
async function allPages(p: Person, limit: number): Promise<{ rooms: Room[]; sizes: number[] }> {
  const rooms: Room[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(p.socket, "room:list", cursor === undefined ? { limit } : { limit, cursor });
    rooms.push(...page.rooms);
    sizes.push(page.rooms.length);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  return { rooms, sizes };
}

describe("room:list pages", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: NO_LIMITS });
  });
  after(() => server.close());

  test("pages follow next through every room once, most recent activity first", async () => {
    const [ann, ben] = (await people(server, 2, "Pager")) as [Person, Person];
    const made: Room[] = [];
    for (let i = 0; i < 7; i++) made.push(await group(ann, [ben], `Paged ${i}`));
    await send(ben.socket, made[2]!.id, "bump"); // the third room becomes the most recent
    const { rooms, sizes } = await allPages(ann, 3);
    assert.deepEqual(sizes, [3, 3, 1]);
    const ids = rooms.map((r) => r.id);
    assert.equal(new Set(ids).size, 7, "no room twice");
    assert.equal(ids[0], made[2]!.id, "the room with the newest message first");
    assert.deepEqual(
      ids,
      (await ok(ann.socket, "room:list", { limit: 200 })).rooms.map((r) => r.id),
    );
  });

  test("a request without a cursor (an old client) gets the first page of the default size", async () => {
    const [ann, ben] = (await people(server, 2, "Old")) as [Person, Person];
    for (let i = 0; i < LIMITS.roomPageDefault + 1; i++) await group(ann, [ben], `Old ${i}`);
    const first = await ok(ann.socket, "room:list", {});
    assert.equal(first.rooms.length, LIMITS.roomPageDefault);
    assert.equal(typeof first.next, "string");
    const rest = await ok(ann.socket, "room:list", { cursor: first.next! });
    assert.equal(rest.rooms.length, 1);
    assert.equal(rest.next, null);
  });

  test("a listed big group carries 20 members, the caller among them; room:get and room:members give all", async () => {
    const crowd = await people(server, 29, "Crowd");
    const owner = crowd[0]!;
    const room = await group(owner, crowd.slice(1, 28));
    const late = crowd[28]!;
    await ok(owner.socket, "room:addMembers", { roomId: room.id, userIds: [late.id] });

    const listed = (await ok(late.socket, "room:list", {})).rooms.find((r) => r.id === room.id)!;
    assert.equal(listed.memberCount, 29);
    assert.equal(listed.members.length, LIMITS.listMembersMax);
    assert.ok(
      listed.members.some((m) => m.userId === late.id),
      "the caller, who joined last, is listed",
    );
    assert.equal(listed.members[0]!.userId, owner.id, "in join order");

    const full = (await ok(late.socket, "room:get", { roomId: room.id })).room;
    assert.equal(full.members.length, 29);
    assert.equal(full.memberCount, 29);

    const paged = [];
    let cursor: string | undefined;
    do {
      const page = await ok(
        late.socket,
        "room:members",
        cursor === undefined ? { roomId: room.id, limit: 10 } : { roomId: room.id, limit: 10, cursor },
      );
      paged.push(...page.members);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual(paged, full.members);
  });

  test("the SDK keeps a big group's full member list when a room list shortens it", async (t) => {
    const crowd = await people(server, 25, "Sdk");
    const room = await group(crowd[0]!, crowd.slice(1));
    const client = await sdkClient(t, server, crowd[24]!.user);
    assert.equal(client.state.room(room.id)?.members.length, LIMITS.listMembersMax, "as listed");
    await client.openRoom(room.id);
    await client.refreshRoom(room.id);
    assert.equal(client.state.room(room.id)?.members.length, 25);

    const synced = new Promise<void>((resolve) => client.on("synced", resolve));
    client.socket.disconnect();
    client.reconnectNow();
    await synced;
    assert.equal(client.state.room(room.id)?.members.length, 25, "not shrunk by the catch-up's room list");
    assert.equal(client.state.room(room.id)?.memberCount, 25);

    // room:updated brings the new count with the new member
    const extra = await person(server, "Sdk Extra");
    await ok(crowd[0]!.socket, "room:addMembers", { roomId: room.id, userIds: [extra.id] });
    await until(() => client.state.room(room.id)?.memberCount === 26, 5000, "the count from room:updated");
    assert.equal(client.state.room(room.id)?.members.length, 26);
  });

  test("room:members of a room the caller is not in is NOT_FOUND; a made-up cursor is BAD_REQUEST", async () => {
    const [ann, ben, cat] = (await people(server, 3, "Members")) as [Person, Person, Person];
    const room = await group(ann, [ben]);
    expectError(await request(cat.socket, "room:members", { roomId: room.id }), "NOT_FOUND");
    expectError(await request(ann.socket, "room:list", { cursor: "bm90IGEgY3Vyc29y" }), "BAD_REQUEST");
    expectError(
      await request(ann.socket, "room:members", { roomId: room.id, cursor: "bm90IGEgY3Vyc29y" }),
      "BAD_REQUEST",
    );
    expectError(await request(ann.socket, "room:list", { limit: LIMITS.roomPageMax + 1 }), "BAD_REQUEST");
  });

  test("GET /api/rooms pages the same way", async () => {
    const [ann, ben] = (await people(server, 2, "Http")) as [Person, Person];
    for (let i = 0; i < 3; i++) await group(ann, [ben], `Http ${i}`);
    const token = await server.token(ann.id);
    const get = async (query: string) => {
      const res = await fetch(`${server.url}/api/rooms${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as { rooms: Room[]; next: string | null } };
    };
    const first = await get("?limit=2");
    assert.equal(first.status, 200);
    assert.equal(first.body.rooms.length, 2);
    const second = await get(`?limit=2&cursor=${encodeURIComponent(first.body.next!)}`);
    assert.equal(second.body.rooms.length, 1);
    assert.equal(second.body.next, null);
    assert.deepEqual(
      [...first.body.rooms, ...second.body.rooms],
      (await ok(ann.socket, "room:list", {})).rooms,
    );
    assert.equal((await get("?limit=0")).status, 400);
    assert.equal((await get("?cursor=nope")).status, 400);
  });
});

describe("MAX_GROUPS_PER_USER", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { ...NO_LIMITS, MAX_GROUPS_PER_USER: "3" } });
  });
  after(() => server.close());

  test("nobody can be put into more groups than the cap: CONFLICT, nothing created or added", async () => {
    const [ann, ben, victim] = (await people(server, 3, "Cap")) as [Person, Person, Person];
    for (let i = 0; i < 3; i++) await group(ann, [victim], `Cap ${i}`);

    const create = await request(ben.socket, "room:create", { name: "One more", memberIds: [victim.id] });
    expectError(create, "CONFLICT");
    if (!create.ok) {
      assert.match(create.error.message, /already in 3 groups/);
      assert.deepEqual(create.error.details, { userIds: [victim.id], maxGroups: 3 });
    }
    assert.deepEqual((await ok(ben.socket, "room:list", {})).rooms, [], "nothing was created");

    const room = await group(ben, []);
    expectError(
      await request(ben.socket, "room:addMembers", { roomId: room.id, userIds: [victim.id] }),
      "CONFLICT",
    );
    const members = (await ok(ben.socket, "room:get", { roomId: room.id })).room.members;
    assert.deepEqual(
      members.map((m) => m.userId),
      [ben.id],
    );

    const own = await request(victim.socket, "room:create", { name: "Mine", memberIds: [] });
    expectError(own, "CONFLICT");
    if (!own.ok) assert.match(own.error.message, /^You are already in 3 groups/);
    // direct chats are not groups: they still work
    assert.equal((await ok(victim.socket, "room:direct", { userId: ben.id })).room.type, "direct");
  });
});

describe("answers past the outbound cap", () => {
  const CAP = 64 * 1024;
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { ...NO_LIMITS, MAX_QUEUED_BYTES: String(CAP) } });
  });
  after(() => server.close());

  test("a victim added to many groups reconnects and pages the full list without being disconnected", {
    timeout: 60_000,
  }, async (t) => {
    const attacker = await person(server, "Attacker");
    const victim = await server.addUser("Victim");
    const long = "y".repeat(3990);
    const made = new Set<string>();
    for (let i = 0; i < 150; i++) {
      const room = await group(attacker, [{ id: victim.id }], `Spam ${i} ${"n".repeat(80)}`);
      await send(attacker.socket, room.id, `${i} ${long}`);
      made.add(room.id);
    }

    // one page of 100 such rooms is far past the cap: it used to drop the victim on every reconnect
    const socket = await server.connect(victim);
    const first = await ok(socket, "room:list", {});
    assert.ok(JSON.stringify(first).length > CAP, "the answer is larger than the cap");
    assert.equal(first.rooms.length, LIMITS.roomPageDefault);
    assert.ok(socket.connected, "still connected after the big answer");

    // the SDK's catch-up follows every page (40 rooms a page here: four pages)
    const client = await sdkClient(t, server, victim, { roomsPageSize: 40 });
    assert.deepEqual(new Set(client.state.rooms().map((r) => r.id)), made);
    assert.equal(client.status, "online");
    assert.ok(socket.connected);
  });

  test("an ack larger than the outbound cap is delivered", async () => {
    const [ann, ben] = (await people(server, 2, "Big")) as [Person, Person];
    const room = await group(ann, [ben]);
    for (let i = 0; i < 40; i++) await send(ann.socket, room.id, `${i} ${"z".repeat(3990)}`);
    const page = await ok(ben.socket, "message:history", { roomId: room.id, limit: 40 });
    assert.equal(page.messages.length, 40);
    assert.ok(JSON.stringify(page).length > 2 * CAP);
    assert.ok(ben.socket.connected);
    assert.equal((await ok(ben.socket, "room:get", { roomId: room.id })).room.lastSeq, 40);
  });

  test("a client that asks and never reads gets RATE_LIMITED once its answers pass the cap, and stays connected", async () => {
    const asker = await server.addUser("Asker");
    const owner = await person(server, "Owner");
    for (let i = 0; i < 30; i++) {
      const room = await group(owner, [{ id: asker.id }], `Asked ${i}`);
      await send(owner.socket, room.id, `${i} ${"q".repeat(3990)}`);
    }
    // long-polling without a waiting GET: whatever the server sends stays queued in Engine.IO
    const raw = await RawPolling.open(server.url);
    await raw.connect(await server.token(asker.id));
    const queued = () => {
      const socket = [...server.app.io.of("/").sockets.values()].find((s) => s.data.user.id === asker.id);
      return ((socket?.conn as unknown as { writeBuffer?: { data?: unknown }[] })?.writeBuffer ?? []).map(
        (p) => String(p.data),
      );
    };
    for (let id = 1; id <= 3; id++) {
      assert.equal(await raw.post(`42${id}["room:list",{}]`), 200);
      await until(() => queued().some((d) => d.startsWith(`3${id}[`)), 5000, `the answer to request ${id}`);
    }
    const answers = (await raw.get()).text
      .split("\u001e")
      .filter((p) => p.startsWith("43"))
      .map((p) => JSON.parse(p.replace(/^43\d+/, ""))[0] as { ok: boolean; error?: { code: string } });
    assert.equal(answers.length, 3);
    assert.equal(answers[0]!.ok, true, "the first answer is sent, though larger than the cap");
    assert.deepEqual(
      answers.slice(1).map((a) => a.error?.code),
      ["RATE_LIMITED", "RATE_LIMITED"],
    );
    // once it has read its answers, it may ask again
    assert.equal(await raw.post('424["room:list",{"limit":1}]'), 200);
    const again = await raw.get();
    assert.match(again.text, /^434\[\{"ok":true/);
  });
});
