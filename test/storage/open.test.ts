/**
 * SQLITE_CACHE_MB reaches SQLite: the chat database's page cache is set from it, and the search
 * connections size theirs from the chat database's.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { cacheKib, openDatabase } from "../../src/storage/sqlite/open.js";

const dir = mkdtempSync(join(tmpdir(), "twc-open-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the page cache is 64 MB unless set, and follows the setting when set", () => {
  const plain = openDatabase(join(dir, "plain.db"));
  assert.equal(plain.pragma("cache_size", { simple: true }), -64 * 1024);
  assert.equal(cacheKib(plain), 64 * 1024);
  plain.close();

  const small = openDatabase(join(dir, "small.db"), { cacheMb: 8 });
  assert.equal(small.pragma("cache_size", { simple: true }), -8 * 1024);
  assert.equal(cacheKib(small), 8 * 1024);
  // a cache given in pages (a positive cache_size) is turned into KiB with the page size
  small.pragma("cache_size = 100");
  assert.equal(cacheKib(small), (100 * Number(small.pragma("page_size", { simple: true }))) / 1024);
  small.close();
});
