/**
 * The SQLite that better-sqlite3 builds in. 12.11.1 builds in SQLite 3.53.2, the release NVD gives
 * as the fix of the FTS5 memory-corruption advisories CVE-2026-11822 and CVE-2026-11824 (both
 * need a crafted database file; SQLite check-in 061febcf41ca). The first test fails if an older
 * SQLite comes back (a downgrade, or a build against an old system SQLite). The second keeps the
 * part of SQLite the chat reaches small: one FTS5 table on its default settings, no FTS3/FTS4 or
 * R-Tree table, so a future FTS3 or R-Tree advisory does not concern it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase, type SqliteDatabase } from "../../src/storage/sqlite/open.js";
import { openSearchDatabase, searchPathOf } from "../../src/storage/sqlite/search-indexer.js";

/** SQLite 3.53.2 fixed CVE-2026-11822 and CVE-2026-11824. */
const FIXED_IN = [3, 53, 2];

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

test("the built-in SQLite is at least 3.53.2, which fixed CVE-2026-11822 and CVE-2026-11824", () => {
  const chat = openDatabase(join(dir, "version.db"));
  try {
    const version = String(chat.prepare("SELECT sqlite_version()").pluck().get());
    assert.ok(!olderThanFix(version), `the built-in SQLite is ${version}, older than ${FIXED_IN.join(".")}`);
  } finally {
    chat.close();
  }
});

test("the chat database and its search index use only FTS5, on its default settings", () => {
  const chat = openDatabase(join(dir, "chat.db"));
  const index = openSearchDatabase(searchPathOf(chat));
  try {
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
