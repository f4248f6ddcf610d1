/**
 * The requirement for moving over: a SQLite file of 1,000,000 messages is copied into
 * PostgreSQL, and every room checked, in under 2 minutes on the project's 2-core machine. The file
 * is built fast by writing rows straight into the SQLite schema in one transaction (the store's
 * own writes are tested in store-copy.test.ts); the copy itself is the real one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { copyStore } from "../../src/storage/copy/copy-store.js";
import { openPool } from "../../src/storage/postgres/pool.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { requireService } from "../support/harness.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres-database.js";

const skip = await requireService("postgres");

const MESSAGES = 1_000_000;
/** a few busy rooms and many quiet ones, as a real installation has */
const ROOM_SIZES = [300_000, 150_000, 50_000, ...Array.from({ length: 500 }, () => 1000)];
const WORDS = ["deploy", "review", "lunch", "ticket", "café", "merge", "release", "meeting", "🚀", "thanks"];

/** Writes the rooms, two members each, and their messages with a reply, an edit and a delete now and then. */
function buildFile(path: string): void {
  const db = openDatabase(path);
  db.pragma("synchronous = OFF");
  const room = db.prepare(
    "INSERT INTO rooms (id, type, name, created_at, last_seq, rev, last_activity_at) VALUES (?, 'group', ?, ?, ?, ?, ?)",
  );
  const member = db.prepare(
    "INSERT INTO members (room_id, user_id, role, joined_at, join_order, read_seq, own_after_read) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const message = db.prepare(
    `INSERT INTO messages (id, room_id, seq, rev, sender_id, body, client_id, reply_to_id, created_at, edited_at, deleted, reactions)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const start = Date.UTC(2025, 0, 1);
  const time = (n: number) => new Date(start + n * 1000).toISOString();
  let id = 0;
  db.transaction(() => {
    ROOM_SIZES.forEach((size, r) => {
      const roomId = r + 1;
      room.run(roomId, `Room ${roomId}`, time(0), size, size, time(id + size));
      member.run(roomId, "u0", "owner", time(0), 1, size, 0);
      member.run(roomId, "u1", "member", time(0), 2, Math.floor(size / 2), 3);
      for (let seq = 1; seq <= size; seq++) {
        id++;
        const sender = `u${(roomId + seq) % 2}`;
        const deleted = seq % 997 === 0;
        const body = deleted
          ? ""
          : `${WORDS[id % 10]} ${WORDS[(id * 7) % 10]} number ${id} in room ${roomId}`;
        message.run(
          id,
          roomId,
          seq,
          seq,
          sender,
          body,
          `c${id}`,
          seq % 50 === 0 ? id - 1 : null,
          time(id),
          seq % 101 === 0 ? time(id + 5) : null,
          deleted ? 1 : 0,
          seq % 37 === 0 ? '{"👍":["u0","u1"]}' : "{}",
        );
      }
    });
  })();
  db.close();
  assert.equal(id, MESSAGES);
}

describe("copying a SQLite file of 1,000,000 messages into PostgreSQL", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "twc-copy-million-"));
  let target: TestDatabase | undefined;
  after(async () => {
    await target?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("takes under 2 minutes and every room checks equal", { timeout: 300_000 }, async () => {
    const path = join(dir, "chat.db");
    const built = performance.now();
    buildFile(path);
    const buildSeconds = (performance.now() - built) / 1000;
    target = await createTestDatabase("million");
    const pool = openPool({ url: target.url, max: 2 });
    try {
      const report = await copyStore({ sqlitePath: path, pool });
      process.stdout.write(
        `built the file in ${buildSeconds.toFixed(1)} s; copied and checked ${report.messages} messages in ${report.rooms} rooms in ${report.seconds.toFixed(1)} s\n`,
      );
      assert.deepEqual(report.problems, []);
      assert.equal(report.messages, MESSAGES);
      assert.equal(report.addedMessages, MESSAGES);
      assert.equal(report.rooms, ROOM_SIZES.length);
      assert.ok(report.seconds < 120, `the copy took ${report.seconds.toFixed(1)} s, more than 2 minutes`);
    } finally {
      await pool.end();
    }
  });
});
