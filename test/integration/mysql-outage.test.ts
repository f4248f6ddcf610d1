/**
 * The PHP app's MariaDB going away and coming back while the server runs: `/ready` says so, new
 * handshakes and sign-ins answer "unavailable" (retry) rather than "unauthorized", nobody already
 * connected is thrown out for it, and everything recovers once MariaDB answers again.
 * A TCP proxy in front of the real MariaDB plays the outage.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import { request, requireService, startServer, type TestServer, until } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, TEST_MARIADB, type TestDatabase } from "../support/mariadb.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const skip = await requireService("mariadb");

async function readyStatus(server: TestServer): Promise<number> {
  const response = await fetch(`${server.url}/ready`);
  await response.body?.cancel();
  return response.status;
}

describe("a MariaDB outage while the server runs", { skip }, () => {
  let db: TestDatabase;
  let server: TestServer;
  /** `close` plays the outage, `listen` (on the same port) its end */
  const proxy = new TcpProxy(TEST_MARIADB);
  const id: Record<string, string> = {};
  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    for (const name of ["ann", "ben"]) {
      const [result] = await db.conn.execute<ResultSetHeader>(
        "INSERT INTO users (username, first_name, last_name, company_id) VALUES (?, ?, 'Outage', 1)",
        [name, name],
      );
      id[name] = String(result.insertId);
    }
    await proxy.listen();
    server = await startServer({
      env: {
        ...db.env,
        MYSQL_PORT: String(proxy.port),
        MYSQL_CONNECT_TIMEOUT_MS: "2000",
        USERS_NAME_COLUMN: "first_name,last_name",
        AUTH_RECHECK_S: "1",
      },
    });
  });
  after(async () => {
    await server?.close();
    await proxy.close();
    await db?.drop();
  });

  test("everything answers 'unavailable' during the outage, nobody is disconnected, and it all recovers", async () => {
    const ann = await server.connect({ token: await server.token(id.ann!) });
    let annDropped = false;
    ann.on("disconnect", () => {
      annDropped = true;
    });
    assert.equal(await readyStatus(server), 200);

    await proxy.close();
    await until(async () => (await readyStatus(server)) === 503, 10_000, "/ready turns 503");
    const benToken = await server.token(id.ben!);
    assert.deepEqual(await server.connectRefused({ token: benToken }), {
      message: "unavailable",
      code: "AUTH_UNAVAILABLE",
    });
    const rooms = await fetch(`${server.url}/api/rooms`, {
      headers: { authorization: `Bearer ${benToken}` },
    });
    assert.equal(rooms.status, 503);
    assert.equal(((await rooms.json()) as { error: { code: string } }).error.code, "AUTH_UNAVAILABLE");
    const login = await fetch(`${server.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "ben", password: "whatever" }),
    });
    assert.equal(login.status, 503);
    await login.body?.cancel();

    // several re-check rounds fail to reach MariaDB: Ann must not be thrown out for that
    const deadline = Date.now() + 3500;
    await until(() => Date.now() > deadline || annDropped, 5000);
    assert.equal(annDropped, false, "a connected user was disconnected because MariaDB was down");
    assert.equal((await request(ann, "room:list", {})).ok, true);

    await proxy.listen();
    await until(async () => (await readyStatus(server)) === 200, 10_000, "/ready back to 200");
    await until(
      () =>
        server.connect({ token: benToken }).then(
          (socket) => {
            socket.close();
            return true;
          },
          () => false,
        ),
      10_000,
      "Ben accepted after MariaDB is back",
    );
    ann.close();
  });
});
