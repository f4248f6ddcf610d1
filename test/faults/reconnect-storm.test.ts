/**
 * A reconnect storm after a restart: 2,000 clients connected to a server that stops, and a new one
 * on the same SQLite file and port, all reconnecting at once. Every client gets its `session`
 * again, and the PHP app's MariaDB sees a small, bounded number of queries: handshakes of the same
 * moment are batched into one lookup, and a user's later sockets find the cache.
 * Queries are counted on the MariaDB side, for a MariaDB account only the new server uses
 * (information_schema.USER_STATISTICS, with `userstat` switched on for the test).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RowDataPacket } from "mysql2/promise";
import { Manager, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../src/protocol/index.js";
import { requireService, startServer, type TestServer, until } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, TEST_MARIADB, type TestDatabase } from "../support/mariadb.js";

const skip = await requireService("mariadb");

const CLIENTS = 2000;
const USERS = 300;
/**
 * Fewer commands than users, so lookups must be batched (50-70 here on a quiet machine; a busy one
 * splits the batches more finely: 154 was seen at a load of 25). One per user would be 300.
 */
const MAX_QUERIES = USERS - 1;

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

describe("a reconnect storm of 2,000 clients after a restart", { skip }, () => {
  let db: TestDatabase;
  let userstatWas = 0;
  const account = `twc_storm_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "twc-storm-"));
  const userIds: string[] = [];
  const clients: Client[] = [];
  let servers: TestServer[] = [];

  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    const values = Array.from({ length: USERS }, (_, i) => [`storm${i}`, `Storm ${i}`, "User"]);
    await db.conn.query("INSERT INTO users (username, first_name, last_name) VALUES ?", [values]);
    const [rows] = await db.conn.query<RowDataPacket[]>("SELECT id FROM users ORDER BY id");
    for (const row of rows) userIds.push(String(row.id));
    await db.conn.query(`CREATE USER '${account}'@'%' IDENTIFIED BY '${password}'`);
    await db.conn.query(`GRANT SELECT ON \`${db.name}\`.* TO '${account}'@'%'`);
    const [stat] = await db.conn.query<RowDataPacket[]>("SELECT @@GLOBAL.userstat AS on_");
    userstatWas = Number(stat[0]?.on_ ?? 0);
    await db.conn.query("SET GLOBAL userstat = 1");
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close().catch(() => {});
    if (db) {
      await db.conn.query(`SET GLOBAL userstat = ${userstatWas}`).catch(() => {});
      await db.conn.query(`DROP USER IF EXISTS '${account}'@'%'`).catch(() => {});
      await db.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every command the storm's MariaDB account has run, by kind, and the rows it was sent. */
  async function commandsOfAccount(): Promise<{ select: number; all: number; rowsSent: number }> {
    const [rows] = await db.conn.query<RowDataPacket[]>(
      "SELECT SELECT_COMMANDS AS s, UPDATE_COMMANDS AS u, OTHER_COMMANDS AS o, ROWS_SENT AS r FROM information_schema.USER_STATISTICS WHERE USER = ?",
      [account],
    );
    const row = rows[0];
    if (!row) return { select: 0, all: 0, rowsSent: 0 };
    const select = Number(row.s);
    return { select, all: select + Number(row.u) + Number(row.o), rowsSent: Number(row.r) };
  }

  test("all 2,000 get their session again and MariaDB sees a bounded number of queries", {
    timeout: 60_000,
  }, async () => {
    const sqlitePath = join(dir, "chat.db");
    const env = { ...db.env, MAX_SOCKETS_PER_USER: "50", USERS_NAME_COLUMN: "first_name,last_name" };
    const first = await startServer({ sqlitePath, env });
    servers = [first];
    const tokens = await Promise.all(userIds.map((id) => first.token(id)));

    const sessions = new Array<number>(CLIENTS).fill(0);
    for (let i = 0; i < CLIENTS; i++) {
      const manager = new Manager(first.url, {
        transports: ["websocket"],
        reconnectionDelay: 200,
        reconnectionDelayMax: 1000,
        timeout: 20_000,
      });
      const socket: Client = manager.socket("/", { auth: { token: tokens[i % USERS]! } });
      socket.on("session", () => {
        sessions[i] = (sessions[i] ?? 0) + 1;
      });
      clients.push(socket);
      // let the server keep up: at most 200 handshakes outstanding
      if (i % 200 === 199)
        await until(() => sessions.filter((s) => s > 0).length > i - 200, 20_000, "first sessions");
    }
    await until(() => sessions.every((s) => s === 1), 20_000, "every client's first session");

    // the restart: same SQLite file, same port, a MariaDB account nobody else uses, an empty cache
    const port = first.port;
    await first.close();
    assert.equal((await commandsOfAccount()).all, 0, "the storm account is unused so far");
    const second = await startServer({
      sqlitePath,
      env: {
        ...env,
        CHAT_PORT: String(port),
        MYSQL_USER: account,
        MYSQL_PASSWORD: password,
        MYSQL_HOST: TEST_MARIADB.host,
      },
    });
    servers = [second];
    await until(
      () => sessions.every((s) => s === 2),
      40_000,
      `every client's session after the restart (${sessions.filter((s) => s === 2).length} of ${CLIENTS})`,
    );
    for (const c of clients) c.close();
    await second.close(); // MariaDB totals a connection's statements as it ends
    servers = [];

    const { select, all, rowsSent } = await commandsOfAccount();
    process.stderr.write(
      `reconnect storm: ${CLIENTS} sessions, ${all} MariaDB commands (${select} SELECT), ${rowsSent} rows\n`,
    );
    // every user is read once and only once: the cache answers a user's later sockets
    assert.equal(rowsSent, USERS, "each of the 300 users came from MariaDB exactly once");
    assert.equal(select, all, "the new server only looked users up");
    assert.ok(all <= MAX_QUERIES, `MariaDB ran ${all} commands for ${CLIENTS} reconnections`);
  });
});
