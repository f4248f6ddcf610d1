/**
 * (v2.4) Working hours on a real server (SQLite, and PostgreSQL with TEST_CHAT_STORE=postgres):
 * the PHP app sets a user's schedule with `PUT /api/server/users/:id/schedule`, users set their
 * own quiet hours with `user:prefs:set`, and both are audited or answered back. The app's clock
 * is a number the test sets, so "available" is checked at exact instants.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { WorkSchedule } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer } from "../support/harness.js";
import { expectError, group, person } from "../support/rooms.js";

const KEY = "working-hours-test-service-key-0123456789";
// Monday 7 December 2026, 19:00 in Lisbon (UTC in winter)
const MONDAY_EVENING = Date.parse("2026-12-07T19:00:00Z");
const OFFICE: WorkSchedule = {
  timeZone: "Europe/Lisbon",
  weekly: { mon: [["08:00", "16:30"]], tue: [["08:00", "16:30"]], wed: [["08:00", "16:30"]] },
};

describe("working hours", () => {
  let server: TestServer;
  let at = MONDAY_EVENING;
  before(async () => {
    server = await startServer({ env: { SERVICE_API_KEY: KEY }, app: { now: () => at } });
  });
  after(() => server?.close());

  const api = (method: string, path: string, body?: unknown, key = KEY) =>
    fetch(`${server.url}/api/server/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("the PHP app sets a schedule, is told what it means now, and the change is audited", async () => {
    at = MONDAY_EVENING;
    const ann = await person(server);
    const res = await api("PUT", `users/${ann.id}/schedule`, OFFICE);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      userId: ann.id,
      schedule: OFFICE,
      available: false,
      availableAt: "2026-12-08T08:00:00.000Z",
    });
    at = Date.parse("2026-12-08T09:00:00Z");
    const again = await api("PUT", `users/${ann.id}/schedule`, OFFICE);
    assert.deepEqual(await again.json(), {
      userId: ann.id,
      schedule: OFFICE,
      available: true,
      availableAt: null,
    });
    const removed = await api("PUT", `users/${ann.id}/schedule`, null);
    assert.deepEqual(await removed.json(), {
      userId: ann.id,
      schedule: null,
      available: true,
      availableAt: null,
    });
    const audit = (await (await api("GET", "audit")).json()) as {
      entries: { action: string; target: string; details: unknown }[];
    };
    assert.deepEqual(
      audit.entries.filter((e) => e.target === `user:${ann.id}`).map((e) => [e.action, e.details]),
      [
        ["users.schedule", { kind: "weekly", timeZone: "Europe/Lisbon" }],
        ["users.schedule", { kind: "weekly", timeZone: "Europe/Lisbon" }],
        ["users.schedule", { kind: null, timeZone: null }],
      ],
    );
  });

  test("a schedule that makes no sense is 400, an unknown user 404, a wrong key 401, and nothing is kept", async () => {
    const bob = await person(server);
    for (const bad of [
      { timeZone: "Mars/Olympus", weekly: { mon: [["08:00", "16:00"]] } },
      { timeZone: "Europe/Lisbon", weekly: { mon: [["08:00", "25:00"]] } },
      { timeZone: "Europe/Lisbon", weekly: {} },
      { timeZone: "Europe/Lisbon", shifts: [{ start: "2026-12-08T10:00:00Z", end: "2026-12-08T09:00:00Z" }] },
      "weekly",
    ]) {
      const res = await api("PUT", `users/${bob.id}/schedule`, bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "BAD_REQUEST");
    }
    assert.equal((await api("PUT", "users/999999/schedule", OFFICE)).status, 404);
    assert.equal((await api("PUT", `users/${bob.id}/schedule`, OFFICE, "wrong-key")).status, 401);
    assert.equal((await server.app.store.hoursOf([bob.id])).size, 0);
  });

  test("a user sets and removes their own quiet hours; prefs answer them; bad ones are BAD_REQUEST", async () => {
    const cy = await person(server);
    const quiet = { timeZone: "America/Toronto", from: "22:00", to: "07:00" };
    const set = await ok(cy.socket, "user:prefs:set", { quietHours: quiet, emailDelayMin: 30 });
    assert.deepEqual(set.prefs.quietHours, quiet);
    assert.equal(set.prefs.emailDelayMin, 30);
    assert.deepEqual((await ok(cy.socket, "user:prefs:get", {})).prefs.quietHours, quiet);
    // another change keeps them
    assert.deepEqual((await ok(cy.socket, "user:prefs:set", { push: false })).prefs.quietHours, quiet);
    for (const bad of [
      { quietHours: { timeZone: "Nowhere/City", from: "22:00", to: "07:00" } },
      { quietHours: { timeZone: "America/Toronto", from: "22:00", to: "22:00" } },
      { quietHours: { timeZone: "America/Toronto", from: "10pm", to: "07:00" } },
      { quietHours: "22:00-07:00" },
    ]) {
      expectError(
        await request(cy.socket, "user:prefs:set", bad as never),
        "BAD_REQUEST",
        JSON.stringify(bad),
      );
    }
    assert.deepEqual((await ok(cy.socket, "user:prefs:get", {})).prefs.quietHours, quiet);
    assert.equal((await ok(cy.socket, "user:prefs:set", { quietHours: null })).prefs.quietHours, null);
    assert.equal((await ok(cy.socket, "user:prefs:get", {})).prefs.quietHours, null);
  });

  test("a sender sees when a colleague they share a room with is off; a stranger sees nothing", async () => {
    at = MONDAY_EVENING;
    const dee = await person(server, "Dee Hours");
    const eli = await person(server, "Eli Colleague");
    const fox = await person(server, "Fox Stranger");
    await api("PUT", `users/${dee.id}/schedule`, OFFICE);
    await group(eli, [dee], "Shift team");
    const seen = (await ok(eli.socket, "user:search", { query: "Dee Hours" })).users;
    assert.deepEqual(seen, [
      {
        id: dee.id,
        name: "Dee Hours",
        login: dee.user.login,
        available: false,
        availableAt: "2026-12-08T08:00:00.000Z",
      },
    ]);
    const presence = (await ok(eli.socket, "presence:get", { userIds: [dee.id] })).presence[dee.id];
    assert.equal(presence?.available, false);
    assert.equal(presence?.availableAt, "2026-12-08T08:00:00.000Z");
    // not sharing a room: no hours at all
    assert.deepEqual((await ok(fox.socket, "user:search", { query: "Dee Hours" })).users, [
      { id: dee.id, name: "Dee Hours", login: dee.user.login },
    ]);
    at = Date.parse("2026-12-08T08:00:00Z");
    const now = (await ok(eli.socket, "user:search", { query: "Dee Hours" })).users[0];
    assert.equal(now?.available, true);
    assert.equal(now?.availableAt, null);
  });
});
