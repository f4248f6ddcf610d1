/**
 * The PostgreSQL pool's write transaction when the connection is lost half-way (a loopback proxy
 * in front of the real PostgreSQL is cut): the write fails as UNAVAILABLE instead of the lost
 * connection's "error" event ending the process, and the pool serves again once it is back.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { AppError } from "../../src/errors.js";
import { openPool, transaction } from "../../src/storage/postgres/pool.js";
import {
  createTestDatabase,
  postgresUrl,
  requireService,
  TEST_POSTGRES,
  type TestDatabase,
} from "../support/harness.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const skip = await requireService("postgres");

describe("a write transaction whose connection is lost", { skip }, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let pool: pg.Pool;
  const problems: string[] = [];

  before(async () => {
    db = await createTestDatabase("pool");
    proxy = new TcpProxy(TEST_POSTGRES);
    await proxy.listen();
    const url = postgresUrl(db.name).replace(`:${TEST_POSTGRES.port}/`, `:${proxy.port}/`);
    pool = openPool({ url, max: 2, onProblem: (message) => problems.push(message) });
    await pool.query("CREATE TABLE notes (body TEXT NOT NULL)");
  });
  after(async () => {
    await pool?.end();
    await proxy?.close();
    await db?.drop();
  });

  test("between two of its queries fails as UNAVAILABLE, and the next write works once it is back", async () => {
    const attempt = transaction(pool, async (client) => {
      await client.query("INSERT INTO notes VALUES ('lost')");
      // the connection drops while this transaction holds it but runs no query: pg reports it
      // with an "error" event on the client, which nothing but the transaction listens to
      const ended = new Promise((resolve) => client.once("end", resolve));
      await proxy.close();
      await ended;
      await client.query("INSERT INTO notes VALUES ('never')");
      return { result: "committed" };
    });
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof AppError, String(error));
      assert.equal(error.code, "UNAVAILABLE");
      return true;
    });

    await proxy.listen();
    const written = await transaction(pool, async (client) => {
      await client.query("INSERT INTO notes VALUES ('after')");
      return { result: "committed" };
    });
    assert.equal(written, "committed");
    const { rows } = await pool.query<{ body: string }>("SELECT body FROM notes ORDER BY body");
    assert.deepEqual(
      rows.map((r) => r.body),
      ["after"],
      "the lost transaction left nothing behind",
    );
  });
});
