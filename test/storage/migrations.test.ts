/**
 * The chat database is upgraded in place: a file made by an older TimeWise Chat keeps every room
 * and message and gains the newer tables.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { SqliteChatStore } from "../../src/storage/sqlite/sqlite-chat-store.js";

const dir = mkdtempSync(join(tmpdir(), "twc-migrate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a file with only the first schema version is upgraded in place and keeps its messages", async () => {
  const path = join(dir, "old.db");
  // build the file exactly as the first released schema left it
  const old = new Database(path);
  old.exec(
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  old.exec(MIGRATIONS[0]!.sql);
  old.prepare("INSERT INTO schema_migrations VALUES (1, 'chat schema', '2026-01-01T00:00:00.000Z')").run();
  old
    .prepare(
      "INSERT INTO rooms (id, type, name, created_at, last_seq, rev, last_activity_at) VALUES (1, 'group', 'Ops', 't', 1, 1, 't')",
    )
    .run();
  old
    .prepare(
      "INSERT INTO members (room_id, user_id, role, joined_at, join_order) VALUES (1, '7', 'owner', 't', 1)",
    )
    .run();
  old
    .prepare(
      "INSERT INTO messages (room_id, seq, rev, sender_id, body, client_id, created_at) VALUES (1, 1, 1, '7', 'kept', 'c1', 't')",
    )
    .run();
  old.close();

  const db = openDatabase(path);
  const versions = db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all();
  assert.deepEqual(
    versions,
    MIGRATIONS.map((m) => m.version),
  );
  const store = new SqliteChatStore(db);
  assert.equal(store.room("1")?.name, "Ops");
  assert.deepEqual(
    store.history("1", { limit: 10 }).messages.map((m) => m.body),
    ["kept"],
  );
  await store.close();
});

test("opening an up-to-date file twice applies nothing again", () => {
  const path = join(dir, "twice.db");
  openDatabase(path).close();
  const db = openDatabase(path);
  const count = db.prepare("SELECT COUNT(*) FROM schema_migrations").pluck().get();
  assert.equal(count, MIGRATIONS.length);
  db.close();
});
