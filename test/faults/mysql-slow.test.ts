/**
 * The PHP app's MariaDB answering more slowly than the server's timeouts, and MariaDB not there at
 * all when the server starts. New handshakes are refused as retryable (`unavailable`,
 * AUTH_UNAVAILABLE) within a bounded time, users already connected keep chatting, and everything
 * recovers without a restart. A TCP proxy in front of the real MariaDB delays its answers, or is
 * not listening yet. (mysql-outage.test.ts covers MariaDB going away while the server runs.)
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import {
  ok,
  request,
  requireService,
  startServer,
  type TestServer,
  until,
  waitFor,
} from "../support/harness.js";
import { createTestDatabase, phpUsersTable, TEST_MARIADB, type TestDatabase } from "../support/mariadb.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const skip = await requireService("mariadb");

/** A port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function readyStatus(server: TestServer): Promise<number> {
  const response = await fetch(`${server.url}/ready`);
  await response.body?.cancel();
  return response.status;
}

/** Resolves true once `token`'s handshake is accepted (the socket is closed again). */
function accepted(server: TestServer, token: string): Promise<boolean> {
  return server.connect({ token }).then(
    (socket) => {
      socket.close();
      return true;
    },
    () => false,
  );
}

describe("a slow or absent MariaDB", { skip }, () => {
  let db: TestDatabase;
  const id: Record<string, string> = {};
  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    for (const name of ["ann", "ben", "cat", "dan"]) {
      const [result] = await db.conn.execute<ResultSetHeader>(
        "INSERT INTO users (username, first_name, last_name) VALUES (?, ?, 'Slow')",
        [name, name],
      );
      id[name] = String(result.insertId);
    }
  });
  after(async () => {
    await db?.drop();
  });

  test("answers slower than the timeouts refuse new handshakes as retryable, connected users keep chatting, and it recovers", async () => {
    const proxy = new TcpProxy(TEST_MARIADB);
    await proxy.listen();
    const server = await startServer({
      env: { ...db.env, MYSQL_PORT: String(proxy.port), MYSQL_CONNECT_TIMEOUT_MS: "1000" },
    });
    try {
      const ann = await server.connect({ token: await server.token(id.ann!) });
      const ben = await server.connect({ token: await server.token(id.ben!) });
      const { room } = await ok(ann, "room:direct", { userId: id.ben! });

      proxy.delayMs = 4000; // well past the 1 s connect timeout and the query deadline
      const catToken = await server.token(id.cat!);
      const started = Date.now();
      assert.deepEqual(await server.connectRefused({ token: catToken }), {
        message: "unavailable",
        code: "AUTH_UNAVAILABLE",
      });
      const took = Date.now() - started;
      assert.ok(took < 8000, `the refusal took ${took} ms`);

      // Ann and Ben were looked up already: they chat on while MariaDB crawls
      const delivered = waitFor(ben, "message:new", (m) => m.body === "still here");
      const sent = await request(ann, "message:send", {
        roomId: room.id,
        body: "still here",
        clientId: randomUUID(),
      });
      assert.equal(sent.ok, true, JSON.stringify(sent));
      await delivered;
      assert.equal(ann.connected && ben.connected, true);

      proxy.delayMs = 0;
      await until(() => accepted(server, catToken), 15_000, "Cat accepted once MariaDB is fast again");
      ann.close();
      ben.close();
    } finally {
      await server.close();
      await proxy.close();
    }
  });

  test("MariaDB down at start: the server starts, /ready says 503, handshakes are retryable, and it recovers without a restart", async () => {
    const port = await closedPort();
    const server = await startServer({
      env: { ...db.env, MYSQL_PORT: String(port), MYSQL_CONNECT_TIMEOUT_MS: "1000" },
    });
    const proxy = new TcpProxy(TEST_MARIADB);
    try {
      await until(async () => (await readyStatus(server)) === 503, 10_000, "/ready answers 503");
      const danToken = await server.token(id.dan!);
      const started = Date.now();
      assert.deepEqual(await server.connectRefused({ token: danToken }), {
        message: "unavailable",
        code: "AUTH_UNAVAILABLE",
      });
      assert.ok(Date.now() - started < 8000, `the refusal took ${Date.now() - started} ms`);

      await proxy.listen(port); // MariaDB "comes up" on the configured port
      await until(async () => (await readyStatus(server)) === 200, 15_000, "/ready back to 200");
      await until(() => accepted(server, danToken), 15_000, "Dan accepted once MariaDB is up");
    } finally {
      await server.close();
      await proxy.close();
    }
  });
});
