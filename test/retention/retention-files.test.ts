/**
 * (v2.4) What retention and erasure leave behind, on the disk file store and the S3 store (a real
 * S3-protocol server on loopback), on SQLite and on PostgreSQL (TEST_CHAT_STORE=postgres): the old
 * messages are tombstones (same `seq`, `deleted: true`, a new `rev`), a member who was offline
 * catches up on the deletions through `message:changes` without a gap, the files' bytes and their
 * thumbnails are gone from the file store, and the search index no longer holds the words. A
 * room's own retention, longer or shorter, wins over RETENTION_DAYS. Time is moved by hand: the
 * app's clock (TestClock) and the daily job's turn (ManualTimers).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import sharp from "sharp";
import { RETENTION_EVERY_MS } from "../../src/chat/retention/service.js";
import { thumbnailKey } from "../../src/files/keys.js";
import type { ChatFile, Message } from "../../src/protocol/index.js";
import { searchPathOf } from "../../src/storage/sqlite/search-indexer.js";
import { hasBytes, postFile } from "../support/files.js";
import { ManualTimers, ok, startServer, TestClock, type TestServer, until } from "../support/harness.js";
import { noise } from "../support/images.js";
import { clientId, group, type Person, person, send } from "../support/rooms.js";
import { startS3, type TestS3 } from "../support/s3.js";

/**
 * The S3 service's removal events name only these keys, none twice. (s3rver drops the event of a
 * delete racing another in the same folder, so the bytes themselves are checked with HEAD.)
 */
function assertRemovedOnce(events: readonly string[], keys: readonly string[]): void {
  assert.equal(new Set(events).size, events.length, "no object removed twice");
  for (const key of events) assert.ok(keys.includes(key), `${key} was one of the files`);
}

const KEY = "retention-files-test-service-key-0123456789";
const DAY = 24 * 60 * 60 * 1000;

for (const kind of ["disk", "s3"] as const) {
  describe(`retention and erasure with the ${kind} file store`, () => {
    let s3: TestS3 | null = null;
    let server: TestServer;
    const clock = new TestClock();
    const timers = new ManualTimers();
    before(async () => {
      s3 = kind === "s3" ? await startS3() : null;
      server = await startServer({
        env: { SERVICE_API_KEY: KEY, RETENTION_DAYS: "30", ...s3?.env },
        app: { now: clock.now, jobTimers: timers },
      });
      assert.equal(server.config.files.store.kind, kind);
    });
    after(async () => {
      await server?.close();
      await s3?.close();
    });

    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/api/server/${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    /** An image (it gets a thumbnail) and a text file, uploaded by `who`. */
    const twoFiles = async (who: Person): Promise<ChatFile[]> => {
      const auth = `Bearer ${await server.token(who.id)}`;
      const png = await sharp(noise(64, 48)).png().toBuffer();
      const image = await postFile(server.url, auth, png, { name: "plan.png" });
      const notes = await postFile(server.url, auth, new Uint8Array(40).fill(97), { name: "notes.txt" });
      assert.deepEqual([image.status, notes.status], [201, 201]);
      assert.ok(image.file!.thumbnailUrl, "the image has a thumbnail");
      return [image.file!, notes.file!];
    };
    /** Every store key of the files: the bytes, and the thumbnail of those that have one. */
    const keysOf = async (files: ChatFile[]): Promise<string[]> => {
      const keys: string[] = [];
      for (const f of files) {
        const record = (await server.app.store.file(f.id))!;
        keys.push(record.storeKey);
        if (record.hasThumbnail) keys.push(thumbnailKey(record.storeKey));
      }
      return keys;
    };
    const stored = (key: string) => hasBytes(server.config.files.store, key);
    /** The ids of the messages whose words the search index holds for `word`, read from the index itself. */
    const indexed = async (word: string): Promise<string[]> => {
      if (server.database) {
        const client = new pg.Client({ connectionString: server.database.url });
        await client.connect();
        try {
          const { rows } = await client.query<{ id: string }>(
            "SELECT id FROM messages WHERE search_vector @@ to_tsquery('simple', $1) ORDER BY id",
            [word],
          );
          return rows.map((r) => String(r.id));
        } finally {
          await client.end();
        }
      }
      const index = new Database(searchPathOf(server.db), { readonly: true });
      try {
        const rows = index
          .prepare("SELECT rowid FROM message_index WHERE message_index MATCH ? ORDER BY rowid")
          .pluck()
          .all(`{body} : "${word}"`) as number[];
        return rows.map(String);
      } finally {
        index.close();
      }
    };
    const search = async (who: Person, query: string) =>
      (await ok(who.socket, "message:search", { query })).messages.map((m) => m.id);

    test("the daily run leaves tombstones an offline member catches up on, and no bytes, thumbnails or index words", async () => {
      const ann = await person(server);
      const bob = await person(server);
      const room = await group(ann, [bob]);
      const word = `walrus${kind}${Date.now()}`;
      const files = await twoFiles(ann);
      const old = (
        await ok(ann.socket, "message:send", {
          roomId: room.id,
          body: `the ${word} plan`,
          clientId: clientId(),
          fileIds: files.map((f) => f.id),
        })
      ).message;
      const oldPlain = await send(ann.socket, room.id, `another ${word}`);
      clock.advance(10 * DAY);
      const kept = await send(ann.socket, room.id, `a newer ${word}`);
      const keys = await keysOf(files);
      assert.equal(keys.length, 3, "two files and one thumbnail");
      for (const key of keys) assert.equal(await stored(key), true);
      await until(async () => (await indexed(word)).length === 3, 5000, "the index holds the three messages");

      // Bob was last up to date here, then went offline
      const { room: seen } = await ok(bob.socket, "room:get", { roomId: room.id });
      bob.socket.close();
      clock.advance(20 * DAY + 1);
      await timers.advance(RETENTION_EVERY_MS);

      const history = (await server.app.store.history(room.id, { limit: 10 })).messages;
      const byId = new Map(history.map((m) => [m.id, m]));
      for (const m of [old, oldPlain]) {
        const now = byId.get(m.id)!;
        assert.deepEqual([now.seq, now.deleted, now.body, now.files], [m.seq, true, "", []]);
      }
      assert.equal(byId.get(kept.id)!.deleted, false, "a message 20 days old stays");
      for (const key of keys) assert.equal(await stored(key), false, `${key} is gone from the file store`);
      if (s3) assertRemovedOnce(s3.removed, keys);
      for (const f of files) assert.equal(await server.app.store.file(f.id), undefined);
      await until(
        async () => (await indexed(word)).join() === kept.id,
        5000,
        "the index keeps only the message that stays",
      );

      // back online: the changes since Bob's rev are exactly the two deletions, no rev skipped
      const back = { ...bob, socket: await server.connect(bob.user) };
      const changes = await ok(back.socket, "message:changes", { roomId: room.id, sinceRev: seen.rev });
      assert.deepEqual(
        changes.messages.map((m: Message) => [m.id, m.deleted]).sort(),
        [
          [old.id, true],
          [oldPlain.id, true],
        ].sort(),
      );
      const revs = changes.messages.map((m: Message) => m.rev).sort((a, b) => a - b);
      assert.deepEqual(revs, [seen.rev + 1, seen.rev + 2]);
      assert.equal(changes.rev, seen.rev + 2);
      assert.equal(changes.hasMore, false);
      assert.deepEqual(await search(back, word), [kept.id]);
    });

    test("a room's own retention wins over RETENTION_DAYS, longer or shorter", async () => {
      const cid = await person(server);
      const longer = await group(cid, []);
      const shorter = await group(cid, []);
      const plain = await group(cid, []);
      assert.equal((await api("PUT", `rooms/${longer.id}/retention`, { days: 90 })).status, 200);
      assert.equal((await api("PUT", `rooms/${shorter.id}/retention`, { days: 3 })).status, 200);
      const inLonger = await send(cid.socket, longer.id);
      const inShorter = await send(cid.socket, shorter.id);
      const inPlain = await send(cid.socket, plain.id);
      const deletedNow = async () => {
        const out: string[] = [];
        for (const m of [inLonger, inShorter, inPlain]) {
          if ((await server.app.store.message(m.id))!.deleted) out.push(m.id);
        }
        return out;
      };
      clock.advance(4 * DAY);
      await timers.advance(RETENTION_EVERY_MS);
      assert.deepEqual(await deletedNow(), [inShorter.id], "3 days: only the short room");
      clock.advance(27 * DAY);
      await timers.advance(RETENTION_EVERY_MS);
      assert.deepEqual(await deletedNow(), [inShorter.id, inPlain.id], "31 days: RETENTION_DAYS too");
      clock.advance(59 * DAY + 1);
      await timers.advance(RETENTION_EVERY_MS);
      assert.deepEqual(await deletedNow(), [inLonger.id, inShorter.id, inPlain.id], "past 90 days");
    });

    test("erasure removes the user's messages, files, thumbnails and index words, and answers how many", async () => {
      const dee = await person(server);
      const eve = await person(server);
      const room = await group(dee, [eve]);
      const word = `otter${kind}${Date.now()}`;
      const files = await twoFiles(dee);
      const keys = await keysOf(files);
      await ok(dee.socket, "message:send", {
        roomId: room.id,
        body: `the ${word} notes`,
        clientId: clientId(),
        fileIds: files.map((f) => f.id),
      });
      await send(dee.socket, room.id, `more ${word}`);
      const theirs = await send(eve.socket, room.id, `eve's ${word}`);
      await until(async () => (await indexed(word)).length === 3, 5000, "the index holds the three messages");
      const removedBefore = s3?.removed.length ?? 0;

      const answer = await api("DELETE", `users/${dee.id}/messages`);
      assert.deepEqual([answer.status, await answer.json()], [200, { deleted: 2 }]);
      for (const key of keys) assert.equal(await stored(key), false, `${key} is gone from the file store`);
      if (s3) assertRemovedOnce(s3.removed.slice(removedBefore), keys);
      await until(
        async () => (await indexed(word)).join() === theirs.id,
        5000,
        "the index keeps only the other user's message",
      );
      assert.deepEqual(await search(eve, word), [theirs.id]);
      const again = await api("DELETE", `users/${dee.id}/messages`);
      assert.deepEqual(await again.json(), { deleted: 0 }, "a second erasure finds nothing left");
    });
  });
}
