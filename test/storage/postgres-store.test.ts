/**
 * The PostgreSQL chat store against the real local PostgreSQL: the store contract (the same tests
 * as the SQLite store), then what only a shared database has: migrations started by two nodes at
 * once, two nodes sending into one room, retries of a client id across nodes, and a database
 * that cannot be reached.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { migrate } from "../../src/storage/postgres/migrations.js";
import { openPool } from "../../src/storage/postgres/pool.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { requireService } from "../support/harness.js";
import { chatStoreContract } from "./chat-store-contract.js";
import { createTestDatabase, type TestDatabase } from "./postgres-database.js";

const skip = await requireService("postgres");

if (!skip) {
  chatStoreContract("PostgreSQL", async () => {
    const db = await createTestDatabase("contract");
    const store = await PostgresChatStore.open({ url: db.url });
    return {
      store,
      async dispose() {
        await store.close();
        await db.drop();
      },
    };
  });
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
      assert.deepEqual(applied.flat().sort(), [1]);
      const { rows } = await pools[0]!.query("SELECT version FROM schema_migrations");
      assert.equal(rows.length, 1);
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
