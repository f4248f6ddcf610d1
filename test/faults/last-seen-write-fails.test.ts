/**
 * A user's last socket closes and the PostgreSQL write of their "last seen" time fails while the
 * server is still looking up who shares a room with them: the failure is logged as a failed
 * presence update, never an unhandled rejection, and the roommates still hear "offline".
 * The write fails for real (a trigger that raises), and the lookup is held back by a second
 * session holding a lock on the rooms table, so the write fails first every time.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { requireService, startServer, type TestServer, until, waitFor } from "../support/harness.js";
import { group, type Person, people } from "../support/rooms.js";

const skip = await requireService("postgres");

describe("the last-seen write fails while the roommates are looked up", { skip }, () => {
  let server: TestServer;
  let locker: pg.Client | null = null;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  before(async () => {
    server = await startServer({ store: "postgres" });
    process.on("unhandledRejection", onUnhandled);
  });
  after(async () => {
    process.off("unhandledRejection", onUnhandled);
    await locker?.end();
    await server?.close();
  });

  test("the failure is no unhandled rejection, and the roommate still hears offline", async () => {
    const [ann, ben] = (await people(server, 2, "Seen")) as [Person, Person];
    await group(ann, [ben]);
    const admin = server.database!.admin;
    const db = new pg.Client({ connectionString: server.database!.url });
    await db.connect();
    // a sequence is not rolled back with the failed write, so it shows the attempt was made
    await db.query(`
      CREATE SEQUENCE failed_last_seen;
      CREATE FUNCTION refuse_last_seen() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM nextval('failed_last_seen');
        RAISE EXCEPTION 'last seen refused by the test';
      END $$;
      CREATE TRIGGER refuse_last_seen BEFORE INSERT OR UPDATE ON known_users
        FOR EACH ROW WHEN (NEW.last_seen_at IS NOT NULL) EXECUTE FUNCTION refuse_last_seen();
    `);
    await db.end();

    locker = new pg.Client({ connectionString: server.database!.url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE rooms IN ACCESS EXCLUSIVE MODE");

    const offline = waitFor(ben.socket, "presence", (p) => p.userId === ann.id && !p.online, 10_000);
    ann.socket.close();

    // proof the write failed and its transaction is over: the attempt counted, and no session of
    // the server is left inside a transaction other than the lookup waiting for the lock
    const inTransaction = async () =>
      Number(
        (
          await admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = $1 AND application_name = 'timewise-chat' AND xact_start IS NOT NULL
               AND wait_event_type IS DISTINCT FROM 'Lock'`,
            [server.database!.name],
          )
        ).rows[0]!.n,
      );
    const attempts = async () => {
      const { rows } = await locker!.query<{ is_called: boolean }>("SELECT is_called FROM failed_last_seen");
      return rows[0]!.is_called;
    };
    await until(async () => (await attempts()) && (await inTransaction()) === 0, 5000, "the failed write");
    await admin.query("SELECT 1"); // one more round trip: the pool has read the error by now
    assert.deepEqual(unhandled, [], "the failed write was an unhandled rejection");

    await locker.query("COMMIT");
    const presence = await offline;
    assert.equal(presence.online, false);
    assert.equal(typeof presence.lastSeenAt, "string");
    assert.deepEqual(unhandled, [], "no unhandled rejection after the lookup either");
  });
});
