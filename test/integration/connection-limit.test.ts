/**
 * MAX_SOCKETS_PER_USER caps the connections one user holds at once (tabs, phones): more are
 * refused, also when they arrive all at once (a reconnect storm, or a client opening many in parallel).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import { request, requireService, startServer, type TestServer, until } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, type TestDatabase } from "../support/mariadb.js";

const skipMysql = await requireService("mariadb");

/** Opens `count` connections of one token at the same moment; resolves with how many were accepted. */
async function simultaneous(server: TestServer, token: string, count: number): Promise<number> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => server.connect({ token })));
  let accepted = 0;
  for (const r of results) {
    if (r.status === "fulfilled") {
      accepted++;
      r.value.close();
    }
  }
  return accepted;
}

describe("connections per user", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { MAX_SOCKETS_PER_USER: "2" } });
  });
  after(() => server.close());

  test("a third connection of one user is refused while the first two keep working", async () => {
    const max = await server.addUser("Max Sockets");
    const first = await server.connect(max);
    const second = await server.connect(max, { transports: ["polling"] });
    const refusal = await server.connectRefused({ token: await server.token(max.id) });
    assert.deepEqual(refusal, { message: "too_many_connections", code: "TOO_MANY_CONNECTIONS" });
    assert.equal((await request(first, "room:list", {})).ok, true);
    assert.equal((await request(second, "room:list", {})).ok, true);
    assert.equal(first.connected && second.connected, true);
  });

  test("another user is not affected by someone else's limit", async () => {
    const a = await server.addUser("Limit A");
    const b = await server.addUser("Limit B");
    const sockets = [await server.connect(a), await server.connect(a), await server.connect(b)];
    assert.ok(sockets.every((s) => s.connected));
    for (const s of sockets) s.close();
  });

  test("after one socket closes, the user may connect again", async () => {
    const cat = await server.addUser("Cat Reconnect");
    const first = await server.connect(cat);
    await server.connect(cat);
    first.close();
    await until(
      async () => {
        try {
          (await server.connect(cat)).close();
          return true;
        } catch {
          return false;
        }
      },
      5000,
      "a free slot after a disconnect",
    );
  });

  test("thirty simultaneous connection attempts of one user let in exactly two", async () => {
    const zed = await server.addUser("Zed Race");
    const accepted = await simultaneous(server, await server.token(zed.id), 30);
    assert.equal(accepted, 2);
  });
});

describe("connections per user with the MySQL directory", { skip: skipMysql }, () => {
  let db: TestDatabase;
  let server: TestServer;
  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    server = await startServer({ env: { ...db.env, MAX_SOCKETS_PER_USER: "2" } });
  });
  after(async () => {
    await server?.close();
    await db?.drop();
  });

  test("thirty simultaneous connection attempts of one user not yet looked up let in exactly two", async () => {
    const [result] = await db.conn.execute<ResultSetHeader>("INSERT INTO users (username) VALUES ('storm')");
    const accepted = await simultaneous(server, await server.token(String(result.insertId)), 30);
    assert.equal(accepted, 2, `accepted ${accepted} of 30 with MAX_SOCKETS_PER_USER=2`);
  });

  test("thirty simultaneous connection attempts of a user already connected once let in exactly one more", async () => {
    const [result] = await db.conn.execute<ResultSetHeader>("INSERT INTO users (username) VALUES ('storm2')");
    const token = await server.token(String(result.insertId));
    const first = await server.connect({ token });
    const accepted = await simultaneous(server, token, 30);
    assert.equal(accepted, 1, `accepted ${accepted} more of 30 beside one open connection`);
    first.close();
  });
});
