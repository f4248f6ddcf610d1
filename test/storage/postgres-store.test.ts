/**
 * The PostgreSQL chat store against the real local PostgreSQL: the store contracts (the same tests
 * as the SQLite store, file records included), then what only a shared database has: migrations started by two nodes at
 * once, two nodes sending into one room, retries of a client id across nodes, and a database
 * that cannot be reached.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { lockRooms } from "../../src/storage/postgres/locks.js";
import { MIGRATIONS, migrate } from "../../src/storage/postgres/migrations.js";
import { openPool, transaction } from "../../src/storage/postgres/pool.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { createTestDatabase, requireService, type TestDatabase, until } from "../support/harness.js";
import { ackRecordsContract } from "./ack-records-contract.js";
import { chatStoreContract, type OpenedStore } from "./chat-store-contract.js";
import { fileRecordsContract } from "./file-records-contract.js";
import { hoursContract } from "./hours-contract.js";
import { pushSubscriptionsContract } from "./push-subscriptions-contract.js";

const skip = await requireService("postgres");

async function openPostgres(): Promise<OpenedStore> {
  const db = await createTestDatabase("contract");
  const store = await PostgresChatStore.open({ url: db.url });
  const others: PostgresChatStore[] = [];
  return {
    store,
    async another() {
      const other = await PostgresChatStore.open({ url: db.url });
      others.push(other);
      return other;
    },
    async dispose() {
      for (const other of others) await other.close();
      await store.close();
      await db.drop();
    },
  };
}

if (!skip) {
  chatStoreContract("PostgreSQL", openPostgres);
  fileRecordsContract("PostgreSQL", openPostgres);
  ackRecordsContract("PostgreSQL", openPostgres);
  hoursContract("PostgreSQL", openPostgres);
  pushSubscriptionsContract("PostgreSQL", openPostgres);
}

const AT = "2026-03-01T10:00:00.000Z";

describe("the PostgreSQL chat store shared by several nodes", { skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase("nodes");
  });
  after(() => db?.drop());

  test("two nodes starting together apply each migration exactly once", async () => {
    const fresh = await createTestDatabase("migrate");
    const pools = [openPool({ url: fresh.url }), openPool({ url: fresh.url })];
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool)));
      const shipped = MIGRATIONS.map((m) => m.version);
      assert.deepEqual(
        applied.flat().sort((a, b) => a - b),
        shipped,
      );
      const { rows } = await pools[0]!.query("SELECT version FROM schema_migrations ORDER BY version");
      assert.deepEqual(
        rows.map((r: { version: number }) => r.version),
        shipped,
      );
      assert.deepEqual(await migrate(pools[1]!), []);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
      await fresh.drop();
    }
  });

  test("two nodes sending into one room at once give seq 1..N and contiguous revs", async () => {
    const nodes = [
      await PostgresChatStore.open({ url: db.url }),
      await PostgresChatStore.open({ url: db.url }),
    ];
    try {
      const room = await nodes[0]!.createGroup({ name: "Busy", ownerId: "1", memberIds: ["1", "2"], at: AT });
      const perNode = 100;
      await Promise.all(
        nodes.map((node, n) =>
          Promise.all(
            Array.from({ length: perNode }, (_, i) =>
              node.sendMessage({
                roomId: room.id,
                senderId: String(n + 1),
                body: `node ${n} message ${i}`,
                clientId: `n${n}-${i}`,
                replyToId: null,
                at: AT,
              }),
            ),
          ),
        ),
      );
      const { messages } = await nodes[1]!.history(room.id, { limit: 1000 });
      const total = perNode * nodes.length;
      assert.deepEqual(
        messages.map((m) => m.seq),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      const changes = await nodes[0]!.changes(room.id, 0, 1000);
      assert.deepEqual(
        changes.messages.map((m) => m.rev),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      assert.equal(changes.rev, total);
      const state = await nodes[1]!.room(room.id);
      assert.deepEqual([state?.lastSeq, state?.rev], [total, total]);
      assert.deepEqual(
        [state?.members.get("1")?.ownAfterRead, state?.members.get("2")?.ownAfterRead],
        [perNode, perNode],
      );
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });

  test("a client id retried on another node at the same moment is stored once", async () => {
    const nodes = [
      await PostgresChatStore.open({ url: db.url }),
      await PostgresChatStore.open({ url: db.url }),
    ];
    try {
      const room = await nodes[0]!.createGroup({ name: "Retry", ownerId: "7", memberIds: ["7"], at: AT });
      const input = {
        roomId: room.id,
        senderId: "7",
        body: "once",
        clientId: "retry-1",
        replyToId: null,
        at: AT,
      };
      const results = await Promise.all([
        nodes[0]!.sendMessage(input),
        nodes[1]!.sendMessage(input),
        nodes[1]!.sendMessage(input),
      ]);
      assert.deepEqual(results.map((r) => r.created).sort(), [false, false, true]);
      assert.equal(new Set(results.map((r) => r.message.id)).size, 1);
      assert.equal((await nodes[1]!.room(room.id))?.lastSeq, 1);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });

  test("a membership change made on one node is seen by the other as soon as it is acknowledged", async () => {
    const nodes = [
      await PostgresChatStore.open({ url: db.url }),
      await PostgresChatStore.open({ url: db.url }),
    ];
    try {
      const room = await nodes[0]!.createGroup({
        name: "Access",
        ownerId: "8",
        memberIds: ["8", "9"],
        at: AT,
      });
      await nodes[0]!.removeMember(room.id, "9");
      assert.equal((await nodes[1]!.room(room.id))?.members.has("9"), false);
      assert.equal((await nodes[1]!.roomIdsOf("9")).has(room.id), false);
      await nodes[1]!.setRole(room.id, "8", "admin");
      assert.equal((await nodes[0]!.room(room.id))?.members.get("8")?.role, "admin");
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });

  test("a write locking several rooms takes them in id order, so it never holds one while waiting", async () => {
    const store = await PostgresChatStore.open({ url: db.url });
    const holder = new pg.Client({ connectionString: db.url });
    const pool = openPool({ url: db.url });
    await holder.connect();
    try {
      const a = await store.createGroup({ name: "A", ownerId: "1", memberIds: [], at: AT });
      const b = await store.createGroup({ name: "B", ownerId: "1", memberIds: [], at: AT });
      const [low, high] = [a.id, b.id].sort((x, y) => Number(x) - Number(y));
      // another node holds the lower room
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE", [low]);
      // asked for in the opposite order, the write must wait for the lower room first...
      const write = transaction(pool, async (client) => {
        const locked = await lockRooms(client, [high!, low!]);
        return { result: [...locked.keys()] };
      });
      await until(
        async () => {
          // asked from outside the holder's transaction, which sees one unchanging copy of the view
          const { rows } = await db.admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            [db.name],
          );
          return rows[0].n > 0;
        },
        5000,
        "the write to wait for the lower room",
      );
      // ...without holding the higher one meanwhile (NOWAIT fails at once if it were locked)
      const third = await pool.connect();
      try {
        await third.query("BEGIN");
        await third.query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE NOWAIT", [high]);
        await third.query("ROLLBACK");
      } finally {
        third.release();
      }
      await holder.query("COMMIT");
      assert.deepEqual(await write, [low, high]);
    } finally {
      await holder.end();
      await pool.end();
      await store.close();
    }
  });

  test("sends grouped in one call where one can't be stored: that one gets its own error, the others are stored in order", async () => {
    const store = await PostgresChatStore.open({ url: db.url });
    try {
      const room = await store.createGroup({ name: "Mixed", ownerId: "1", memberIds: [], at: AT });
      const other = await store.createGroup({ name: "Other", ownerId: "1", memberIds: [], at: AT });
      await store.sendMessage({
        roomId: other.id,
        senderId: "1",
        body: "x",
        clientId: "used",
        replyToId: null,
        at: AT,
      });
      const send = (body: string, more: { clientId?: string; replyToId?: string } = {}) =>
        store.sendMessage({
          roomId: room.id,
          senderId: "1",
          body,
          clientId: more.clientId ?? null,
          replyToId: more.replyToId ?? null,
          at: AT,
          requireMember: true,
        });
      // all in one turn: the first two go out at once, the rest wait and go in one call, where
      // the error raised by one send must not cost the others theirs (the call runs again, each
      // send in a subtransaction)
      const outcomes = await Promise.allSettled([
        send("1"),
        send("2"),
        send("3"),
        send("4", { clientId: "used" }),
        send("5"),
        send("6", { replyToId: "987654" }),
        send("7"),
      ]);
      const codes = outcomes.map((o) =>
        o.status === "fulfilled" ? "stored" : (o.reason as { code: string }).code,
      );
      assert.deepEqual(codes, ["stored", "stored", "stored", "CONFLICT", "stored", "BAD_REQUEST", "stored"]);
      // two calls run at once, so which of them takes the room first is open: seq follows commits
      const { messages } = await store.changes(room.id, 0, 10);
      assert.deepEqual(
        messages.map((m) => [m.seq, m.rev]),
        [1, 2, 3, 4, 5].map((n) => [n, n]),
      );
      assert.deepEqual(messages.map((m) => m.body).sort(), ["1", "2", "3", "5", "7"]);
      const stored = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.message.id] : []));
      assert.deepEqual(stored.sort(), messages.map((m) => m.id).sort());
    } finally {
      await store.close();
    }
  });

  test("search puts the best match first", async () => {
    const store = await PostgresChatStore.open({ url: db.url });
    try {
      const room = await store.createGroup({ name: "Rank", ownerId: "1", memberIds: [], at: AT });
      const say = (body: string) =>
        store.sendMessage({ roomId: room.id, senderId: "1", body, clientId: null, replyToId: null, at: AT });
      const once = await say("the deploy is done, coffee later");
      const often = await say("deploy deploy deploy: the deploy again");
      const found = await store.search([room.id], "deploy", 10);
      assert.deepEqual(
        found.map((m) => m.id),
        [often.message.id, once.message.id],
      );
    } finally {
      await store.close();
    }
  });

  test("an unreachable database answers UNAVAILABLE, which clients may retry", async () => {
    // nothing listens on port 1
    const store = new PostgresChatStore(
      openPool({ url: "postgres://root@127.0.0.1:1/none", connectTimeoutMs: 500 }),
    );
    try {
      await assert.rejects(store.ping(), { code: "UNAVAILABLE" });
      await assert.rejects(store.room("1"), { code: "UNAVAILABLE" });
      await assert.rejects(store.setLastSeen("1", AT), { code: "UNAVAILABLE" });
    } finally {
      await store.close();
    }
  });

  test("a closed store fails loudly", async () => {
    const store = await PostgresChatStore.open({ url: db.url });
    await store.close();
    await assert.rejects(async () => store.room("1"), /closed/);
  });
});
