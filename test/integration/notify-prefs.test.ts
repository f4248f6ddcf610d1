/**
 * Notification settings (PROTOCOL v2.3): each member's `notify` per room (`room:notify`), and each
 * user's `user:prefs:*` with the contract's defaults. Real sockets, a real server; runs on SQLite
 * and, in `npm run test:postgres`, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ok, request, startServer, type TestServer } from "../support/harness.js";
import { expectError, getRoom, group, MISSING_ID, type Person, roundTrip } from "../support/rooms.js";

let server: TestServer;
let ann: Person;
let bob: Person;
let dave: Person;

async function connected(name: string, email?: string): Promise<Person> {
  const user = await server.addUser(name, email === undefined ? {} : { email });
  return { id: user.id, user, socket: await server.connect(user) };
}

before(async () => {
  server = await startServer();
  ann = await connected("Ann Settings", "ann@example.com");
  bob = await connected("Bob Settings");
  dave = await connected("Dave Outsider", "dave@example.com");
});
after(() => server.close());

const DEFAULTS_WITH_EMAIL = { email: "digest", emailDelayMin: 10, push: true, quietHours: null };
const DEFAULTS_WITHOUT_EMAIL = { email: "off", emailDelayMin: 10, push: true, quietHours: null };

test("a room notifies every message by default, in every answer that carries the room", async () => {
  const room = await group(ann, [bob], "Defaults");
  assert.equal(room.notify, "all");
  assert.equal((await getRoom(bob.socket, room.id)).notify, "all");
  const listed = (await ok(bob.socket, "room:list", {})).rooms.find((r) => r.id === room.id);
  assert.equal(listed?.notify, "all");
});

test("room:notify sets the caller's own setting only, and every later answer shows it", async () => {
  const room = await group(ann, [bob], "Quiet please");
  await roundTrip(bob.socket); // the group's own room:updated has arrived
  const seen: unknown[] = [];
  bob.socket.on("room:updated", (r) => seen.push(r));
  const { room: mine } = await ok(ann.socket, "room:notify", { roomId: room.id, notify: "mentions" });
  assert.equal(mine.notify, "mentions");
  assert.equal(mine.id, room.id);
  assert.equal((await getRoom(ann.socket, room.id)).notify, "mentions");
  const listed = (await ok(ann.socket, "room:list", {})).rooms.find((r) => r.id === room.id);
  assert.equal(listed?.notify, "mentions");
  // bob's setting is his own
  assert.equal((await getRoom(bob.socket, room.id)).notify, "all");
  // nobody else is told: it is nobody else's business
  await roundTrip(bob.socket);
  assert.deepEqual(seen, []);

  assert.equal(
    (await ok(ann.socket, "room:notify", { roomId: room.id, notify: "none" })).room.notify,
    "none",
  );
  assert.equal((await ok(ann.socket, "room:notify", { roomId: room.id, notify: "all" })).room.notify, "all");
  assert.equal((await getRoom(ann.socket, room.id)).notify, "all");
});

test("room:notify for a room the caller is not in, or that does not exist, is NOT_FOUND and changes nothing", async () => {
  const room = await group(ann, [bob], "Private");
  expectError(await request(dave.socket, "room:notify", { roomId: room.id, notify: "none" }), "NOT_FOUND");
  expectError(await request(dave.socket, "room:notify", { roomId: MISSING_ID, notify: "none" }), "NOT_FOUND");
  // a member who left is no longer one
  await ok(bob.socket, "room:leave", { roomId: room.id });
  expectError(await request(bob.socket, "room:notify", { roomId: room.id, notify: "none" }), "NOT_FOUND");
  assert.equal((await getRoom(ann.socket, room.id)).notify, "all");
});

test("user:prefs:get answers the contract's defaults: a digest only for users with an email address", async () => {
  assert.deepEqual((await ok(ann.socket, "user:prefs:get", {})).prefs, DEFAULTS_WITH_EMAIL);
  assert.deepEqual((await ok(bob.socket, "user:prefs:get", {})).prefs, DEFAULTS_WITHOUT_EMAIL);
});

test("user:prefs:set changes the fields given and keeps the others, for the caller only", async () => {
  const user = await connected("Erin Prefs", "erin@example.com");
  const first = await ok(user.socket, "user:prefs:set", { emailDelayMin: 60 });
  assert.deepEqual(first.prefs, { email: "digest", emailDelayMin: 60, push: true, quietHours: null });
  const second = await ok(user.socket, "user:prefs:set", { email: "off", push: false });
  assert.deepEqual(second.prefs, { email: "off", emailDelayMin: 60, push: false, quietHours: null });
  // {} changes nothing and answers the settings
  assert.deepEqual((await ok(user.socket, "user:prefs:set", {})).prefs, second.prefs);
  assert.deepEqual((await ok(user.socket, "user:prefs:get", {})).prefs, second.prefs);
  // the edges of the delay are allowed
  assert.equal((await ok(user.socket, "user:prefs:set", { emailDelayMin: 1 })).prefs.emailDelayMin, 1);
  assert.equal((await ok(user.socket, "user:prefs:set", { emailDelayMin: 1440 })).prefs.emailDelayMin, 1440);
  // another user's settings are untouched
  assert.deepEqual((await ok(dave.socket, "user:prefs:get", {})).prefs, DEFAULTS_WITH_EMAIL);
  // a second socket of the same user reads the same
  const again = await server.connect(user.user);
  assert.deepEqual((await ok(again, "user:prefs:get", {})).prefs, {
    email: "off",
    emailDelayMin: 1440,
    push: false,
    quietHours: null,
  });
});

test("a chosen digest is kept for a user without an email address", async () => {
  const user = await connected("Finn NoMail");
  const { prefs } = await ok(user.socket, "user:prefs:set", { email: "digest" });
  assert.deepEqual(prefs, { email: "digest", emailDelayMin: 10, push: true, quietHours: null });
});

test("user:prefs:set refuses a delay outside 1–1440 minutes and unknown email modes, changing nothing", async () => {
  const user = await connected("Gus Bounds", "gus@example.com");
  for (const payload of [
    { emailDelayMin: 0 },
    { emailDelayMin: 1441 },
    { emailDelayMin: 2.5 },
    { email: "weekly" },
    { push: "yes" },
    { emailDelayMin: 30, email: "never" },
  ]) {
    expectError(
      await request(user.socket, "user:prefs:set", payload as never),
      "BAD_REQUEST",
      JSON.stringify(payload),
    );
  }
  assert.deepEqual((await ok(user.socket, "user:prefs:get", {})).prefs, DEFAULTS_WITH_EMAIL);
});

test("a user's email address never reaches other users", async () => {
  const { users } = await ok(bob.socket, "user:search", { query: "Ann Settings" });
  // they share rooms, so bob also sees whether ann may be reached now (v2.4)
  assert.deepEqual(users, [
    { id: ann.id, name: "Ann Settings", login: ann.user.login, available: true, availableAt: null },
  ]);
  const room = await group(ann, [bob], "No addresses");
  const seen = JSON.stringify([await getRoom(bob.socket, room.id), await ok(bob.socket, "room:list", {})]);
  assert.equal(seen.includes("ann@example.com"), false);
});
