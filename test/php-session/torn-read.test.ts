/**
 * PHP's files handler truncates a session file before rewriting it, so a read can catch it empty
 * or half-written. Such a read is tried once more; a session that stays broken is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PhpSessions } from "../../src/auth/php-session/index.js";
import type { SessionStore, StoredSession } from "../../src/auth/php-session/types.js";
import { createLogger } from "../../src/logger.js";

const ID = "abcdefghijklmnopqrstuvwxyz012345";
const FULL = Buffer.from('user_id|i:42;cart|a:1:{i:0;s:2:"é";}');

/** A store that answers the given reads in turn (the last one repeats), counting them. */
function storeOf(reads: (Buffer | null)[], tornReads = true): SessionStore & { loads: number } {
  const store = {
    tornReads,
    loads: 0,
    async load(): Promise<StoredSession | null> {
      const data = reads[Math.min(store.loads, reads.length - 1)]!;
      store.loads += 1;
      return data === null ? null : { data, expired: false };
    },
    async close() {},
  };
  return store;
}

const sessions = (store: SessionStore) =>
  new PhpSessions(store, "PHPSESSID", "user_id", createLogger("silent"));

test("an empty read, then the rewritten session: signed in after one retry", async () => {
  const store = storeOf([Buffer.alloc(0), FULL]);
  assert.deepEqual(await sessions(store).userOf(ID), { ok: true, userId: "42" });
  assert.equal(store.loads, 2);
});

test("a half-written read, then the rewritten session: signed in after one retry", async () => {
  const store = storeOf([FULL.subarray(0, 20), FULL]);
  assert.deepEqual(await sessions(store).userOf(ID), { ok: true, userId: "42" });
  assert.equal(store.loads, 2);
});

test("a session that stays half-written is refused after exactly one retry", async () => {
  const store = storeOf([FULL.subarray(0, 20)]);
  assert.deepEqual(await sessions(store).userOf(ID), { ok: false, code: "AUTH_INVALID" });
  assert.equal(store.loads, 2);
});

test("a session deleted between the two reads is refused", async () => {
  const store = storeOf([Buffer.alloc(0), null]);
  assert.deepEqual(await sessions(store).userOf(ID), { ok: false, code: "AUTH_INVALID" });
});

test("a refused payload (an object) is not retried, and stores that cannot tear are read once", async () => {
  const object = storeOf([Buffer.from('user_id|O:8:"stdClass":0:{}'), FULL]);
  assert.deepEqual(await sessions(object).userOf(ID), { ok: false, code: "AUTH_INVALID" });
  assert.equal(object.loads, 1);
  const atomic = storeOf([FULL.subarray(0, 20), FULL], false);
  assert.deepEqual(await sessions(atomic).userOf(ID), { ok: false, code: "AUTH_INVALID" });
  assert.equal(atomic.loads, 1);
});

test("an id outside PHP's alphabet never reaches the store", async () => {
  const store = storeOf([FULL]);
  for (const id of ["../../etc/passwd00000000000", `${"a".repeat(22)}\u0000`, "short", "a".repeat(257)]) {
    assert.deepEqual(await sessions(store).userOf(id), { ok: false, code: "AUTH_INVALID" });
  }
  assert.equal(store.loads, 0);
});
