/**
 * USERS_SCOPE_COLUMN: users only find, message and share rooms with users of the same scope; a
 * user of another scope is NOT_FOUND everywhere a user id is accepted, like a user who does not exist.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { ErrorBody } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer, type TestUser } from "../support/harness.js";
import { expectError, getRoom, group, MISSING_ID, memberIds, type Person } from "../support/rooms.js";

let server: TestServer;
let colleague: Person;
let stranger: TestUser;
let tok: string;

before(async () => {
  server = await startServer({ env: { USERS_SCOPE_COLUMN: "company_id" } });
  tok = `sc${randomBytes(4)
    .toString("hex")
    .replace(/[0-9]/g, (d) => "ghijklmnop"[Number(d)]!)}`;
  const colleagueUser = await server.addUser(`Acme ${tok} Two`, { scope: "acme" });
  colleague = { id: colleagueUser.id, user: colleagueUser, socket: await server.connect(colleagueUser) };
  stranger = await server.addUser(`Zen ${tok} Three`, { scope: "zen" });
});
after(async () => {
  await server?.close();
});

/** The error without ids, so the answers for two users can be compared. */
const shape = (error: ErrorBody, id: string) =>
  JSON.parse(
    JSON.stringify({ code: error.code, message: error.message, details: error.details }).replaceAll(
      id,
      "<id>",
    ),
  ) as unknown;

test("user:search only finds users of the caller's scope", async () => {
  const me = await scoped("acme");
  const found = (await ok(me.socket, "user:search", { query: tok, limit: 50 })).users.map((u) => u.id);
  // both names hold the word: only the colleague is found, the user of another scope is not
  assert.deepEqual(found, [colleague.id]);
  const listed = (await ok(me.socket, "user:search", { query: "", limit: 50 })).users.map((u) => u.id);
  assert.ok(!listed.includes(stranger.id), "nor listed by an empty query");
});

test("room:direct with a user of another scope is NOT_FOUND, exactly as for an unknown user", async () => {
  const me = await scoped("acme");
  const other = await request(me.socket, "room:direct", { userId: stranger.id });
  const missing = await request(me.socket, "room:direct", { userId: MISSING_ID });
  expectError(other, "NOT_FOUND", "direct with another scope");
  expectError(missing, "NOT_FOUND");
  if (!other.ok && !missing.ok)
    assert.deepEqual(shape(other.error, stranger.id), shape(missing.error, MISSING_ID));
  assert.equal((await ok(me.socket, "room:direct", { userId: colleague.id })).room.type, "direct");
});

test("room:create with a user of another scope is NOT_FOUND and creates nothing", async () => {
  const me = await scoped("acme");
  const res = await request(me.socket, "room:create", {
    name: "Mixed",
    memberIds: [colleague.id, stranger.id],
  });
  expectError(res, "NOT_FOUND", "a group with another scope's user");
  assert.deepEqual((await ok(me.socket, "room:list", {})).rooms, []);
});

test("room:addMembers with a user of another scope is NOT_FOUND and adds nobody", async () => {
  const me = await scoped("acme");
  const room = await group(me, [colleague]);
  const res = await request(me.socket, "room:addMembers", { roomId: room.id, userIds: [stranger.id] });
  expectError(res, "NOT_FOUND", "adding another scope's user");
  assert.deepEqual(memberIds(await getRoom(me.socket, room.id)), [me.id, colleague.id].sort());
});

test("presence:get leaves out users of another scope", async () => {
  const me = await scoped("acme");
  await group(me, [colleague]);
  const res = await ok(me.socket, "presence:get", { userIds: [colleague.id, stranger.id] });
  assert.deepEqual(Object.keys(res.presence), [colleague.id]);
});

/** A new connected user in `scope`. */
async function scoped(scope: string): Promise<Person> {
  const user = await server.addUser(`Scoped ${scope}`, { scope });
  return { id: user.id, user, socket: await server.connect(user) };
}
