/**
 * user:search: a case-insensitive "contains" match on login or name, never the caller, best match
 * first, limit 1–50 (default 20); an empty query lists users by name.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { ok, request, startServer, type TestServer } from "../support/harness.js";
import { expectError, type Person, person } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

/** A token no other user's login or name contains. */
const token = () =>
  `q${randomBytes(4)
    .toString("hex")
    .replace(/[0-9]/g, (d) => "ghijklmnop"[Number(d)]!)}`;

const search = async (p: Person, query: string, limit?: number) =>
  (await ok(p.socket, "user:search", limit === undefined ? { query } : { query, limit })).users;

test("user:search matches login or name, case-insensitively, and never returns the caller", async () => {
  const tok = token();
  const caller = await person(server, `Caller ${tok}`);
  const byName = await server.addUser(`Name ${tok.toUpperCase()} Match`, {
    login: `nm${randomBytes(3).toString("hex")}`,
  });
  const byLogin = await server.addUser("Login Match", { login: `xx${tok}yy` });
  await server.addUser("Nobody Relevant", { login: `zz${randomBytes(3).toString("hex")}` });
  const found = await search(caller, tok.toUpperCase());
  assert.deepEqual(found.map((u) => u.id).sort(), [byName.id, byLogin.id].sort());
  const named = found.find((u) => u.id === byName.id);
  assert.deepEqual(
    named,
    { id: byName.id, name: byName.name, login: byName.login },
    "with the login, for @mentions",
  );
  assert.deepEqual(
    (await search(caller, tok.slice(2, 7))).map((u) => u.id).sort(),
    [byName.id, byLogin.id].sort(),
    "a match in the middle of a word counts",
  );
  assert.deepEqual(await search(caller, `${tok}-nothing-like-it`), []);
});

test("user:search puts an exact login match before mere contains matches", async () => {
  const tok = token();
  const caller = await person(server);
  const contains = await server.addUser("Aaron Contains", { login: `aa${tok}bb` });
  const exact = await server.addUser("Zed Exact", { login: tok });
  const found = await search(caller, tok);
  assert.deepEqual(
    found.map((u) => u.id),
    [exact.id, contains.id],
  );
});

test("user:search leaves out inactive users", async () => {
  const tok = token();
  const caller = await person(server);
  const active = await server.addUser(`Active ${tok}`);
  const inactive = await server.addUser(`Inactive ${tok}`);
  await server.builtin?.setActive(inactive.id, false);
  assert.deepEqual(
    (await search(caller, tok)).map((u) => u.id),
    [active.id],
  );
});

test("user:search returns at most `limit` users, 20 by default", async () => {
  const tok = token();
  const caller = await person(server);
  for (let i = 0; i < 25; i++) await server.addUser(`Many ${tok} ${String(i).padStart(2, "0")}`);
  assert.equal((await search(caller, tok)).length, 20);
  assert.equal((await search(caller, tok, 2)).length, 2);
  assert.equal((await search(caller, tok, 1)).length, 1);
  assert.equal((await search(caller, tok, 50)).length, 25);
});

test("user:search limits outside 1–50 or of the wrong type are BAD_REQUEST", async () => {
  const caller = await person(server);
  for (const limit of [0, 51, 2.5, "10", -1, true]) {
    expectError(
      await request(caller.socket, "user:search", { query: "a", limit }),
      "BAD_REQUEST",
      `limit ${limit}`,
    );
  }
  for (const query of [null, 42, undefined, ["a"], "a\u0000", "\ud800"]) {
    const res = await request(caller.socket, "user:search", { query });
    expectError(res, "BAD_REQUEST", `query ${JSON.stringify(query)}`);
  }
});

test("an empty query lists other users ordered by name", async () => {
  // a server of its own, so the test knows every user there is
  const own = await startServer();
  try {
    const caller = await person(own, "Mia Caller");
    // added out of order, names in mixed case: the list is by name, whatever the case
    const names = Array.from(
      { length: 22 },
      (_, i) => `${i % 2 ? "user" : "User"} ${String(i + 1).padStart(2, "0")}`,
    );
    const users = [];
    for (const name of [...names].reverse()) users.unshift(await own.addUser(name));
    const found = await search(caller, "", 50);
    assert.deepEqual(
      found.map((u) => [u.id, u.name]),
      users.map((u) => [u.id, u.name]),
      "every other user, by name, never the caller",
    );
    assert.deepEqual(
      (await search(caller, "")).map((u) => u.id),
      users.slice(0, 20).map((u) => u.id),
      "20 by default",
    );
  } finally {
    await own.close();
  }
});

test("search text is data, not syntax: wildcards and quotes match literally", async () => {
  const caller = await person(server);
  const plain = await server.addUser("Percent Plain", { login: `pp${randomBytes(3).toString("hex")}` });
  for (const query of ["%", "_", "'", '"', "\\", "*", "%'; --"]) {
    const res = await request(caller.socket, "user:search", { query, limit: 50 });
    assert.ok(res.ok, `query ${JSON.stringify(query)}: ${JSON.stringify(res).slice(0, 200)}`);
    assert.ok(!res.users.some((u) => u.id === plain.id), `${JSON.stringify(query)} is not a wildcard`);
  }
});
