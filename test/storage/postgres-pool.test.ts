/**
 * The PostgreSQL pool's write transaction when the connection is lost half-way (a loopback proxy
 * in front of the real PostgreSQL is cut): the write fails as UNAVAILABLE instead of the lost
 * connection's "error" event ending the process, and the pool serves again once it is back.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { AppError } from "../../src/errors.js";
import { openPool, read, transaction } from "../../src/storage/postgres/pool.js";
import {
  createTestDatabase,
  postgresUrl,
  requireService,
  TEST_POSTGRES,
  type TestDatabase,
  until,
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

describe("the pool's statement timeouts", { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase("pooltimeouts");
    pool = openPool({ url: db.url, max: 2, lockTimeoutMs: 200, statementTimeoutMs: 1500 });
    await pool.query("CREATE TABLE notes (body TEXT NOT NULL)");
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  const unavailable = (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, "UNAVAILABLE");
    return true;
  };

  test("a statement that runs past the statement timeout is cancelled as UNAVAILABLE", async () => {
    const started = performance.now();
    await assert.rejects(read(pool, "SELECT pg_sleep(30)"), unavailable);
    const took = performance.now() - started;
    assert.ok(took >= 1400 && took < 10_000, `cancelled after ${Math.round(took)} ms`);
    assert.deepEqual(await read(pool, "SELECT 1 AS one"), [{ one: 1 }], "the pool serves on");
  });

  test("a transaction left idle past the statement timeout is ended, its rows rolled back and its locks freed", async () => {
    const attempt = transaction(pool, async (client) => {
      await client.query("INSERT INTO notes VALUES ('stuck')");
      await client.query("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE");
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // a node frozen between two queries: PostgreSQL ends the session on its own
      await until(
        async () =>
          (await pool.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [rows[0]!.pid])).rowCount === 0,
        10_000,
        "the idle transaction's session was ended",
      );
      await client.query("INSERT INTO notes VALUES ('never')");
      return { result: "committed" };
    });
    await assert.rejects(attempt, unavailable);
    // the table lock went with the session: this neither waits nor times out
    assert.deepEqual(await read(pool, "SELECT count(*)::int AS n FROM notes"), [{ n: 0 }]);
  });

  test("a wait for a lock past the lock timeout answers UNAVAILABLE", async () => {
    const holder = await pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE");
      const started = performance.now();
      await assert.rejects(
        transaction(pool, async (client) => {
          await client.query("INSERT INTO notes VALUES ('waits')");
          return { result: "committed" };
        }),
        unavailable,
      );
      const took = performance.now() - started;
      assert.ok(
        took >= 180 && took < 1400,
        `refused after ${Math.round(took)} ms, before the statement timeout`,
      );
      await holder.query("ROLLBACK");
    } finally {
      holder.release();
    }
  });
});
