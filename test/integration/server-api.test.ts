/**
 * The server API for the PHP back end (`/api/server/...`): only with SERVICE_API_KEY, only with
 * the right key and never from a browser; posting as a user or as TimeWise reaches the members'
 * sockets; a mirrored room upserted twice is one room with its members synced; the unread badge
 * matches `room:list`; minted tokens open sockets; a disconnect closes the user's sockets and
 * revokes their tokens, durably.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { watchDisconnect } from "../support/cookies.js";
import {
  collect,
  ok,
  request,
  startServer,
  type TestServer,
  type TestUser,
  until,
  waitFor,
} from "../support/harness.js";
import {
  clientId,
  expectError,
  group,
  memberIds,
  type Person,
  person,
  roundTrip,
  send,
} from "../support/rooms.js";

const KEY = randomBytes(24).toString("hex");

/** Calls the server API; `key: null` sends no Authorization header. */
async function api(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  options: { key?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const key = options.key === undefined ? KEY : options.key;
  const headers: Record<string, string> = { ...options.headers };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const errorCode = (r: { body: Record<string, unknown> }) =>
  (r.body.error as { code?: string } | undefined)?.code;

describe("the server API is off without SERVICE_API_KEY", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test("every /api/server route answers 404, with or without a key", async () => {
    for (const [method, path] of [
      ["POST", "/api/server/messages"],
      ["PUT", "/api/server/rooms/team:1"],
      ["GET", "/api/server/users/1/unread"],
      ["POST", "/api/server/tokens"],
      ["POST", "/api/server/users/1/disconnect"],
    ] as const) {
      const r = await api(server, method, path, method === "GET" ? undefined : {});
      assert.equal(r.status, 404, `${method} ${path}`);
    }
  });
});

describe("the server API", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { SERVICE_API_KEY: KEY } });
  });
  after(() => server.close());

  test("a missing key is 401 AUTH_REQUIRED, a wrong one 401 AUTH_INVALID, a browser 403", async () => {
    const path = "/api/server/users/1/unread";
    const missing = await api(server, "GET", path, undefined, { key: null });
    assert.deepEqual([missing.status, errorCode(missing)], [401, "AUTH_REQUIRED"]);
    // other lengths and multi-byte characters too: a plain timingSafeEqual would throw on them
    const wrongKeys = [
      `${KEY.slice(0, -1)}x`,
      "short",
      `${KEY}${KEY}`,
      "",
      "é".repeat(KEY.length),
      "x".repeat(8000),
    ];
    for (const wrong of wrongKeys) {
      const r = await api(server, "GET", path, undefined, { key: wrong });
      assert.deepEqual([r.status, errorCode(r)], [401, "AUTH_INVALID"], wrong.slice(0, 80));
    }
    const basic = await api(server, "GET", path, undefined, {
      key: null,
      headers: { authorization: `Basic ${KEY}` },
    });
    assert.equal(basic.status, 401);
    const browser = await api(server, "GET", path, undefined, {
      headers: { origin: "http://localhost:8080" },
    });
    assert.deepEqual([browser.status, errorCode(browser)], [403, "FORBIDDEN"]);
    assert.equal((await api(server, "GET", path)).status, 200, "the right key works");
  });

  test("posting as a user reaches every member's sockets, and a retry with the same clientId posts nothing", async () => {
    const [ann, bob] = [await person(server, "Ann Poster"), await person(server, "Bob Reader")];
    const room = await group(ann, [bob]);
    const seen = collect(bob.socket, "message:new");
    const annSeen = waitFor(ann.socket, "message:new");
    const payload = { roomId: room.id, senderId: ann.id, body: "Hello from PHP", clientId: "php-1" };
    const first = await api(server, "POST", "/api/server/messages", payload);
    assert.equal(first.status, 201);
    const message = first.body.message as { id: string; senderId: string; body: string };
    assert.equal(message.senderId, ann.id);
    assert.equal((await annSeen).id, message.id);
    await until(() => seen.length === 1, 5000, "Bob's message:new");
    const again = await api(server, "POST", "/api/server/messages", { ...payload, body: "changed" });
    assert.equal((again.body.message as { id: string }).id, message.id);
    await roundTrip(bob.socket);
    assert.equal(seen.length, 1, "no second broadcast");
  });

  test("posting as TimeWise uses sender 0, reaches members, and counts as unread for everyone", async () => {
    const [ann, bob] = [await person(server, "Ann System"), await person(server, "Bob System")];
    const room = await group(ann, [bob]);
    const bobSees = waitFor(bob.socket, "message:new");
    const r = await api(server, "POST", "/api/server/messages", {
      roomId: room.id,
      body: "Invoice #1001 paid",
      clientId: "inv-1001",
    });
    assert.equal(r.status, 201);
    assert.equal((await bobSees).senderId, "0");
    for (const p of [ann, bob]) {
      const { room: seen } = await ok(p.socket, "room:get", { roomId: room.id });
      assert.equal(seen.unread, 1, `${p.user.name}'s unread`);
    }
  });

  test("a post as TimeWise into a missing room is 404, also with a clientId TimeWise used elsewhere", async () => {
    const ann = await person(server, "Ann Elsewhere");
    const room = await group(ann, []);
    const used = { body: "Invoice #2002 paid", clientId: clientId() };
    const first = await api(server, "POST", "/api/server/messages", { roomId: room.id, ...used });
    assert.equal(first.status, 201);
    const firstMessage = first.body.message as { id: string };
    // the room is looked up first: no CONFLICT for the clientId, no BAD_REQUEST for the reply
    for (const extra of [{}, { replyToId: firstMessage.id }]) {
      const missing = await api(server, "POST", "/api/server/messages", {
        roomId: "987654321",
        ...used,
        ...extra,
      });
      assert.deepEqual([missing.status, (missing.body.error as { code: string }).code], [404, "NOT_FOUND"]);
    }
  });

  test("posting into a room nobody may see, or as a non-member, is 404; bad payloads are 400", async () => {
    const [ann, eve] = [await person(server, "Ann Member"), await person(server, "Eve Outsider")];
    const room = await group(ann, []);
    const post = (body: unknown) => api(server, "POST", "/api/server/messages", body);
    assert.equal(
      (await post({ roomId: room.id, senderId: eve.id, body: "hi", clientId: clientId() })).status,
      404,
    );
    assert.equal((await post({ roomId: "987654321", body: "hi", clientId: clientId() })).status, 404);
    assert.equal((await post({ roomKey: "team:nope", body: "hi", clientId: clientId() })).status, 404);
    assert.equal(
      (await post({ roomId: room.id, senderId: "987654321", body: "hi", clientId: clientId() })).status,
      404,
    );
    const bad: unknown[] = [
      {},
      { roomId: room.id, body: "hi" },
      { roomId: room.id, roomKey: "team:1", body: "hi", clientId: "x" },
      { roomId: room.id, body: "", clientId: "x" },
      { roomId: room.id, body: "  ", clientId: "x" },
      { roomId: room.id, body: 5, clientId: "x" },
      { roomId: 12, body: "hi", clientId: "x" },
      { roomId: room.id, body: "hi", clientId: "x".repeat(65) },
      { roomId: room.id, body: "hi\u0000", clientId: "x" },
      { roomId: room.id, senderId: "../1", body: "hi", clientId: "x" },
      [],
      "not json",
    ];
    for (const body of bad) {
      const r = await post(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    }
    const long = await post({ roomId: room.id, body: "x".repeat(4001), clientId: "x" });
    assert.equal(long.status, 413);
  });

  test("upserting a room by key twice makes one room; later syncs add and remove members", async () => {
    const [ann, bob, cat, dan] = [
      await person(server, "Ann Team"),
      await person(server, "Bob Team"),
      await person(server, "Cat Team"),
      await person(server, "Dan Team"),
    ];
    const key = `team:${randomBytes(3).toString("hex")}`;
    const put = (body: unknown) => api(server, "PUT", `/api/server/rooms/${key}`, body);
    const bobHears = waitFor(bob.socket, "room:updated");
    const first = await put({ name: "Team Blue", memberIds: [ann.id, bob.id] });
    assert.equal(first.status, 201);
    assert.equal(first.body.created, true);
    const room = first.body.room as { id: string; members: { userId: string; role: string }[] };
    assert.equal((await bobHears).id, room.id);
    assert.equal(room.members.find((m) => m.userId === ann.id)?.role, "owner", "the first member owns it");

    const updates = collect(bob.socket, "room:updated");
    const second = await put({ name: "Team Blue", memberIds: [ann.id, bob.id] });
    assert.deepEqual([second.status, second.body.created, second.body.changed], [200, false, false]);
    assert.equal((second.body.room as { id: string }).id, room.id, "still one room");
    await roundTrip(bob.socket);
    assert.equal(updates.length, 0, "an unchanged sync announces nothing");

    // Bob leaves the team, Cat and Dan join; the name changes
    const bobRemoved = waitFor(bob.socket, "room:removed");
    const catAdded = waitFor(cat.socket, "room:updated", (r) => r.id === room.id);
    const third = await put({
      name: "Team Blue (EU)",
      memberIds: [ann.id, cat.id, dan.id],
      adminIds: [cat.id],
    });
    assert.deepEqual([third.body.added, third.body.removed], [[cat.id, dan.id], [bob.id]]);
    assert.equal((await bobRemoved).roomId, room.id);
    const seenByCat = await catAdded;
    assert.equal(seenByCat.name, "Team Blue (EU)");
    assert.deepEqual(memberIds(seenByCat), [ann.id, cat.id, dan.id].sort());
    assert.equal(seenByCat.members.find((m) => m.userId === cat.id)?.role, "admin");

    // the new members' sockets receive the room's messages at once; Bob's no longer do
    const bobMessages = collect(bob.socket, "message:new");
    const danSees = waitFor(dan.socket, "message:new");
    await api(server, "POST", "/api/server/messages", {
      roomKey: key,
      body: "Welcome Cat and Dan",
      clientId: clientId(),
    });
    assert.equal((await danSees).body, "Welcome Cat and Dan");
    await roundTrip(bob.socket);
    assert.equal(bobMessages.length, 0);

    // the owner can be handed over; GET returns the room
    const fourth = await put({
      name: "Team Blue (EU)",
      memberIds: [ann.id, cat.id, dan.id],
      ownerId: dan.id,
    });
    const roles = Object.fromEntries(
      (fourth.body.room as typeof room).members.map((m) => [m.userId, m.role]),
    );
    assert.deepEqual(roles, { [ann.id]: "member", [cat.id]: "admin", [dan.id]: "owner" });
    const got = await api(server, "GET", `/api/server/rooms/${encodeURIComponent(key)}`);
    assert.equal((got.body.room as { id: string }).id, room.id);
  });

  test("concurrent first upserts of one key still make exactly one room", async () => {
    const [ann, bob] = [await person(server, "Ann Race"), await person(server, "Bob Race")];
    const key = `project:${randomBytes(3).toString("hex")}`;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        api(server, "PUT", `/api/server/rooms/${key}`, { name: "Race", memberIds: [ann.id, bob.id] }),
      ),
    );
    const ids = new Set(results.map((r) => (r.body.room as { id: string }).id));
    assert.equal(ids.size, 1);
    assert.equal(results.filter((r) => r.body.created === true).length, 1);
    const { rooms } = await ok(ann.socket, "room:list", {});
    assert.equal(rooms.filter((r) => r.id === [...ids][0]).length, 1);
  });

  test("unknown users make nothing; disabled users are skipped; bad keys and lists are 400", async () => {
    const ann = await person(server, "Ann Sync");
    const off = await server.addUser("Off Sync");
    await server.builtin!.setActive(off.login, false);
    const key = `dept:${randomBytes(3).toString("hex")}`;
    const unknown = await api(server, "PUT", `/api/server/rooms/${key}`, {
      name: "D",
      memberIds: [ann.id, "987654321"],
    });
    assert.equal(unknown.status, 404);
    assert.deepEqual((unknown.body.error as { details: unknown }).details, { userIds: ["987654321"] });
    assert.equal((await api(server, "GET", `/api/server/rooms/${key}`)).status, 404, "nothing was created");
    const skipped = await api(server, "PUT", `/api/server/rooms/${key}`, {
      name: "D",
      memberIds: [ann.id, off.id],
    });
    assert.deepEqual([skipped.status, skipped.body.skipped], [201, [off.id]]);
    for (const [path, body] of [
      [`/api/server/rooms/${key}`, { name: "D", memberIds: [] }],
      [`/api/server/rooms/${key}`, { name: "", memberIds: [ann.id] }],
      [`/api/server/rooms/${key}`, { name: "D", memberIds: [Number(ann.id)] }],
      [`/api/server/rooms/${key}`, { name: "D" }],
      ["/api/server/rooms/has%20space", { name: "D", memberIds: [ann.id] }],
      [`/api/server/rooms/${"k".repeat(101)}`, { name: "D", memberIds: [ann.id] }],
      ["/api/server/rooms/%E0%A4%A", { name: "D", memberIds: [ann.id] }],
    ] as const) {
      assert.equal((await api(server, "PUT", path, body)).status, 400, `${path} ${JSON.stringify(body)}`);
    }
  });

  test("the unread badge matches room:list, per room and in total, mentions too, and follows read markers", async () => {
    const [ann, bob] = [await person(server, "Ann Badge"), await person(server, "Bob Badge")];
    const r1 = await group(ann, [bob], "Badge one");
    const r2 = await group(ann, [bob], "Badge two");
    await send(ann.socket, r1.id);
    await send(ann.socket, r1.id);
    await send(ann.socket, r2.id);
    await send(bob.socket, r2.id);
    await api(server, "POST", "/api/server/messages", {
      roomId: r2.id,
      // a post of the PHP app mentions members like any other (v2.3)
      body: `system, for @${bob.user.login}`,
      clientId: clientId(),
    });
    const check = async (p: Person) => {
      const badge = (await api(server, "GET", `/api/server/users/${p.id}/unread`)).body as {
        total: number;
        mentions: number;
        rooms: { roomId: string; unread: number; mentions: number }[];
      };
      const { rooms } = await ok(p.socket, "room:list", {});
      const expected = rooms
        .filter((r) => r.unread > 0)
        .map((r) => ({ roomId: r.id, unread: r.unread, mentions: r.mentions }));
      const sort = (a: { roomId: string }[]) => [...a].sort((x, y) => x.roomId.localeCompare(y.roomId));
      assert.deepEqual(sort(badge.rooms), sort(expected));
      assert.equal(
        badge.total,
        expected.reduce((n, r) => n + r.unread, 0),
      );
      assert.equal(
        badge.mentions,
        expected.reduce((n, r) => n + r.mentions, 0),
      );
      return { total: badge.total, mentions: badge.mentions };
    };
    assert.deepEqual(await check(bob), { total: 4, mentions: 1 });
    assert.deepEqual(await check(ann), { total: 2, mentions: 0 });
    await ok(bob.socket, "room:read", { roomId: r1.id, seq: 2 });
    assert.deepEqual(await check(bob), { total: 2, mentions: 1 });
    await ok(bob.socket, "room:read", { roomId: r2.id, seq: 3 });
    assert.deepEqual(await check(bob), { total: 0, mentions: 0 });
    const nobody = await api(server, "GET", "/api/server/users/987654321/unread");
    assert.deepEqual(nobody.body, { userId: "987654321", total: 0, mentions: 0, rooms: [] });
    assert.equal((await api(server, "GET", "/api/server/users/abc/unread")).status, 400);
  });

  test("a minted token opens a socket; unknown and disabled users get none", async () => {
    const ann = await server.addUser("Ann Minted");
    const minted = await api(server, "POST", "/api/server/tokens", { userId: ann.id, ttlS: 600 });
    assert.equal(minted.status, 200);
    assert.deepEqual(minted.body.user, { id: ann.id, name: "Ann Minted" });
    const socket = await server.connect({ token: minted.body.token as string });
    socket.close();
    assert.equal((await api(server, "POST", "/api/server/tokens", { userId: "987654321" })).status, 404);
    const off = await server.addUser("Off Minted");
    await server.builtin!.setActive(off.login, false);
    assert.equal((await api(server, "POST", "/api/server/tokens", { userId: off.id })).status, 404);
    assert.equal((await api(server, "POST", "/api/server/tokens", { userId: ann.id, ttlS: 5 })).status, 400);
  });

  test("disconnect closes all of the user's sockets at once and refuses their earlier tokens", async () => {
    const ann = await server.addUser("Ann Banned");
    const bob = await person(server, "Bob Stays");
    const oldToken = await server.token(ann.id);
    const sockets = [
      await server.connect({ token: oldToken }),
      await server.connect(ann, { transports: ["polling"] }),
    ];
    const gone = sockets.map(watchDisconnect);
    const r = await api(server, "POST", `/api/server/users/${ann.id}/disconnect`, {});
    assert.equal(r.status, 200);
    await until(() => gone.every((g) => g()), 3000, "Ann's sockets closed");
    assert.equal(bob.socket.connected, true);
    assert.deepEqual(await server.connectRefused({ token: oldToken }), {
      message: "unauthorized",
      code: "AUTH_INVALID",
    });
    // HTTP refuses it too
    const rest = await fetch(`${server.url}/api/rooms`, { headers: { authorization: `Bearer ${oldToken}` } });
    assert.equal(rest.status, 401);
    // a token the server mints now works at once (it postdates the revocation)
    const fresh = await api(server, "POST", "/api/server/tokens", { userId: ann.id });
    (await server.connect({ token: fresh.body.token as string })).close();
    expectError(await request(bob.socket, "room:get", { roomId: "987654321" }), "NOT_FOUND");
  });
});

describe("token revocations survive a restart", () => {
  test("a token refused before the restart is refused after it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twc-revoke-"));
    const sqlitePath = join(dir, "chat.db");
    try {
      const first = await startServer({ sqlitePath, env: { SERVICE_API_KEY: KEY } });
      const ann: TestUser = await first.addUser("Ann Restart");
      const token = await first.token(ann.id);
      await api(first, "POST", `/api/server/users/${ann.id}/disconnect`, {});
      await first.close();
      const second = await startServer({ sqlitePath, env: { SERVICE_API_KEY: KEY } });
      try {
        assert.equal((await second.connectRefused({ token })).code, "AUTH_INVALID");
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
