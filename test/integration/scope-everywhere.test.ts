/**
 * USERS_SCOPE_COLUMN everywhere a user appears, against a real MariaDB users table. The room is
 * older than the scope rule: it was made while USERS_SCOPE_COLUMN was off, with people of two
 * companies in it; then the server restarts with the rule on. From then on neither company sees
 * the other's people in member lists, room:updated, presence, typing or read receipts.
 *
 * An event that must NOT arrive is checked without sleeping: the server sends a socket its events
 * in order, so once a later event (a message to the whole room) has arrived, an earlier one would
 * have arrived before it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import type { SharedRoom } from "../../src/protocol/index.js";
import {
  collect,
  ok,
  requireService,
  startServer,
  type TestServer,
  type TestSocket,
  waitFor,
} from "../support/harness.js";
import { createTestDatabase, phpUsersTable, type TestDatabase } from "../support/mariadb.js";
import { clientId } from "../support/rooms.js";

const skip = await requireService("mariadb");

describe("a room shared by two companies from before USERS_SCOPE_COLUMN", { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let server: TestServer;
  let roomId: string;
  const id: Record<"ann" | "ben" | "zoe" | "zed", string> = { ann: "", ben: "", zoe: "", zed: "" };
  const socket: Partial<Record<keyof typeof id, TestSocket>> = {};

  const insert = async (username: string, company: number) => {
    const [result] = await db.conn.execute<ResultSetHeader>(
      "INSERT INTO users (username, first_name, last_name, company_id) VALUES (?, ?, 'Tester', ?)",
      [username, username[0]!.toUpperCase() + username.slice(1), company],
    );
    return String(result.insertId);
  };
  const connect = async (who: keyof typeof id) => {
    socket[who] = await server.connect({ token: await server.token(id[who]) });
    return socket[who]!;
  };
  const names = (room: SharedRoom) => room.members.map((m) => m.userId).sort();

  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    id.ann = await insert("ann", 1);
    id.ben = await insert("ben", 1);
    id.zoe = await insert("zoe", 2);
    id.zed = await insert("zed", 2);
    dir = mkdtempSync(join(tmpdir(), "twc-scope-"));
    const sqlitePath = join(dir, "chat.db");

    // before the rule: one group with both companies in it
    const unscoped = await startServer({ env: db.env, sqlitePath });
    const owner = await unscoped.connect({ token: await unscoped.token(id.ann) });
    const { room } = await ok(owner, "room:create", {
      name: "Old shared room",
      memberIds: [id.ben, id.zoe, id.zed],
    });
    roomId = room.id;
    owner.close();
    await unscoped.close();

    server = await startServer({ env: { ...db.env, USERS_SCOPE_COLUMN: "company_id" }, sqlitePath });
    await connect("ann");
    await connect("zoe");
  });
  after(async () => {
    await server?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Ben says something to the whole room and both `sockets` receive it. */
  async function marker(...sockets: TestSocket[]): Promise<void> {
    const cid = clientId();
    const heard = sockets.map((s) => waitFor(s, "message:new", (m) => m.clientId === cid));
    await ok(socket.ben!, "message:send", { roomId, body: "marker", clientId: cid });
    await Promise.all(heard);
  }

  test("presence events go only to the same company, both ways", async () => {
    const annSees = collect(socket.ann!, "presence");
    const zoeSees = collect(socket.zoe!, "presence");
    const zoeHearsZed = waitFor(socket.zoe!, "presence", (p) => p.userId === id.zed && p.online);
    const annHearsBen = waitFor(socket.ann!, "presence", (p) => p.userId === id.ben && p.online);
    await connect("zed");
    await connect("ben");
    await Promise.all([zoeHearsZed, annHearsBen]);
    await marker(socket.ann!, socket.zoe!);
    assert.deepEqual(
      annSees.map((p) => p.userId),
      [id.ben],
      "Ann hears of Ben, not of Zed",
    );
    assert.deepEqual(
      zoeSees.map((p) => p.userId),
      [id.zed],
      "Zoe hears of Zed, not of Ben",
    );
  });

  test("presence:get answers for the same company only", async () => {
    const forAnn = await ok(socket.ann!, "presence:get", { userIds: [id.ben, id.zoe, id.zed] });
    assert.deepEqual(Object.keys(forAnn.presence).sort(), [id.ben]);
    const forZoe = await ok(socket.zoe!, "presence:get", { userIds: [id.ann, id.ben, id.zed] });
    assert.deepEqual(Object.keys(forZoe.presence).sort(), [id.zed]);
  });

  test("room:get, room:list and room:members list the caller's company only", async () => {
    const forAnn = (await ok(socket.ann!, "room:get", { roomId })).room;
    assert.deepEqual(names(forAnn), [id.ann, id.ben].sort());
    assert.equal(forAnn.memberCount, 2);
    const listed = (await ok(socket.zoe!, "room:list", {})).rooms.find((r) => r.id === roomId)!;
    assert.deepEqual(names(listed), [id.zoe, id.zed].sort());
    assert.equal(listed.memberCount, 2);
    const members = await ok(socket.zoe!, "room:members", { roomId });
    assert.deepEqual(members.members.map((m) => m.userId).sort(), [id.zoe, id.zed].sort());
  });

  test("typing reaches the typer's company only", async () => {
    const annSees = collect(socket.ann!, "typing");
    const zedHears = waitFor(socket.zed!, "typing", (t) => t.userId === id.zoe && t.typing);
    socket.zoe!.emit("typing", { roomId, typing: true });
    await zedHears;
    await marker(socket.ann!, socket.zed!);
    assert.deepEqual(annSees, [], "Ann never sees Zoe typing");
    socket.zoe!.emit("typing", { roomId, typing: false });
  });

  test("read receipts reach the reader's company only", async () => {
    const annSees = collect(socket.ann!, "room:read");
    const zedHears = waitFor(socket.zed!, "room:read", (r) => r.userId === id.zoe);
    const { room } = await ok(socket.zoe!, "room:get", { roomId });
    await ok(socket.zoe!, "room:read", { roomId, seq: room.lastSeq });
    await zedHears;
    await marker(socket.ann!, socket.zed!);
    assert.deepEqual(
      annSees.filter((r) => r.userId === id.zoe),
      [],
      "Ann never sees Zoe's receipt",
    );
  });

  test("room:updated gives each company a view with its own members only", async () => {
    const annGets = waitFor(socket.ann!, "room:updated", (r) => r.name === "Renamed");
    const benGets = waitFor(socket.ben!, "room:updated", (r) => r.name === "Renamed");
    const zoeGets = waitFor(socket.zoe!, "room:updated", (r) => r.name === "Renamed");
    const zedGets = waitFor(socket.zed!, "room:updated", (r) => r.name === "Renamed");
    const zoeAll = collect(socket.zoe!, "room:updated");
    const answer = await ok(socket.ann!, "room:update", { roomId, name: "Renamed" });
    assert.deepEqual(names(answer.room), [id.ann, id.ben].sort(), "the answer too");
    assert.deepEqual(names(await annGets), [id.ann, id.ben].sort());
    assert.deepEqual(names(await benGets), [id.ann, id.ben].sort());
    assert.deepEqual(names(await zoeGets), [id.zoe, id.zed].sort());
    assert.deepEqual(names(await zedGets), [id.zoe, id.zed].sort());
    await marker(socket.zoe!);
    assert.equal(zoeAll.length, 1, "Zoe gets her company's view once, and no other");
  });
});
