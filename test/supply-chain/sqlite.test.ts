/**
 * better-sqlite3 12 (the last line that runs on Node 20) builds in SQLite 3.53.2, which has
 * advisories fixed in SQLite 3.54.0:
 * - CVE-2026-119373 (high): heap overflow in FTS5 prefix queries on `detail=none` tables;
 * - CVE-2026-119374 (high): heap overflow in FTS5 `secure-delete` on a crafted database;
 * - CVE-2026-119372 (medium): use-after-free in FTS3 `snippet()`; and a medium R-Tree use-after-free.
 * TimeWise Chat keeps clear of every one of them: its only full-text table is FTS5 with the default
 * `detail=full` and without `secure-delete`, it has no FTS3/FTS4 or R-Tree table, and it only opens
 * database files it made itself. While the built-in SQLite is older than 3.54.0, these tests fail
 * the day a schema change walks into one of those features.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase, type SqliteDatabase } from "../../src/storage/sqlite/open.js";
import { openSearchDatabase, searchPathOf } from "../../src/storage/sqlite/search-indexer.js";

const FIXED_IN = [3, 54, 0];

const dir = mkdtempSync(join(tmpdir(), "twc-sqlite-advisories-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function olderThanFix(version: string): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < FIXED_IN.length; i++) {
    const have = parts[i] ?? 0;
    if (have !== FIXED_IN[i]) return have < FIXED_IN[i]!;
  }
  return false;
}

function virtualTables(db: SqliteDatabase): { name: string; sql: string }[] {
  return db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
    .all() as { name: string; sql: string }[];
}

test("the chat database and its search index use none of the SQLite features with open advisories", (t) => {
  const chat = openDatabase(join(dir, "chat.db"));
  const index = openSearchDatabase(searchPathOf(chat));
  try {
    const version = String(chat.prepare("SELECT sqlite_version()").pluck().get());
    if (!olderThanFix(version)) {
      t.diagnostic(`the built-in SQLite is ${version}: the advisories fixed in 3.54.0 no longer apply`);
    }
    const tables = [chat, index].flatMap((db) => virtualTables(db).map((table) => ({ db, ...table })));
    assert.ok(tables.length > 0, "the search index is a virtual table");
    for (const { db, name, sql } of tables) {
      const text = sql.toLowerCase().replace(/\s+/g, " ");
      assert.match(text, /using fts5\b/, `${name} is an FTS5 table, not FTS3/FTS4 or R-Tree`);
      assert.doesNotMatch(text, /\bdetail\s*=/, `${name} keeps FTS5's default detail=full`);
      const options = db.prepare(`SELECT k, v FROM "${name}_config"`).all() as { k: string; v: unknown }[];
      const secureDelete = options.find((o) => o.k === "secure-delete");
      assert.ok(secureDelete === undefined || Number(secureDelete.v) === 0, `${name} has secure-delete off`);
    }
  } finally {
    index.close();
    chat.close();
  }
});
