/**
 * The file records' contract at store level, run against both stores like chat-store-contract.ts:
 * an upload's record within its uploader's quota, attaching files in the same write as the send
 * that carries them, every read of a message carrying its files, and removing records (with their
 * message, or by the clean-up of uploads never attached) with their keys kept as pending deletions.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { thumbnailKey } from "../../src/files/keys.js";
import type { ChatFile } from "../../src/protocol/index.js";
import type { AsyncChatStore } from "../../src/storage/async-chat-store.js";
import type { FileRecord, NewFile } from "../../src/storage/chat-store.js";
import { until } from "../support/harness.js";
import type { OpenedStore } from "./chat-store-contract.js";

const AT = "2026-03-01T10:00:00.000Z";
const LATER = "2026-03-01T10:05:00.000Z";
const QUOTA = 1000;

let nextUser = 5000;
const users = (n: number) => Array.from({ length: n }, () => String(nextUser++));

/** An upload of `size` bytes by `uploaderId`; an image when `image` is set. */
function upload(uploaderId: string, size: number, image = false): NewFile {
  return {
    uploaderId,
    name: image ? "receipt.png" : "roster.pdf",
    size,
    type: image ? "image/png" : "application/pdf",
    width: image ? 640 : null,
    height: image ? 480 : null,
    hasThumbnail: image,
    storeKey: `k/${randomUUID()}`,
    at: AT,
  };
}

/** The error code of the one refused outcome among `results`. */
function refusedCode(results: PromiseSettledResult<unknown>[]): string | undefined {
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.equal(refused.length, 1, "exactly one is refused");
  return (refused[0]!.reason as { code?: string }).code;
}

/** What a message shows of a file record. */
const shown = (f: FileRecord): ChatFile => ({
  id: f.id,
  name: f.name,
  size: f.size,
  type: f.type,
  width: f.width,
  height: f.height,
  url: `/api/files/${f.id}`,
  thumbnailUrl: f.hasThumbnail ? `/api/files/${f.id}/thumbnail` : null,
});

export function fileRecordsContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`the ${name} store's file records`, () => {
    let opened: OpenedStore;
    let s: AsyncChatStore;
    before(async () => {
      opened = await open();
      s = opened.store;
    });
    after(() => opened?.dispose());

    const group = async (n: number) => {
      const ids = users(n);
      const room = await s.createGroup({ name: "Files", ownerId: ids[0]!, memberIds: ids, at: AT });
      return { room, ids };
    };
    const send = (
      roomId: string,
      senderId: string,
      fileIds: string[],
      body = "",
      clientId: string | null = null,
    ) => s.sendMessage({ roomId, senderId, body, clientId, replyToId: null, fileIds, at: LATER });

    test("an upload's record is kept unattached, exactly as given", async () => {
      const [u] = users(1);
      const input = upload(u!, 300, true);
      const file = await s.createFile(input, QUOTA);
      const { at: _at, ...fields } = input;
      assert.deepEqual(file, { ...fields, id: file.id, createdAt: AT, messageId: null, roomId: null });
      assert.deepEqual(await s.file(file.id), file);
      assert.equal(await s.fileBytesOf(u!), 300);
      assert.equal(await s.file("987654321"), undefined);
    });

    test("an upload past the quota is QUOTA_EXCEEDED and nothing is kept; one up to it is kept", async () => {
      const [u] = users(1);
      await s.createFile(upload(u!, 600), QUOTA);
      await assert.rejects(s.createFile(upload(u!, 401), QUOTA), {
        code: "QUOTA_EXCEEDED",
        details: { usedBytes: 600, quotaBytes: QUOTA },
      });
      assert.equal(await s.fileBytesOf(u!), 600);
      await s.createFile(upload(u!, 400), QUOTA);
      assert.equal(await s.fileBytesOf(u!), QUOTA);
      // another user's files don't count
      const [v] = users(1);
      assert.equal(await s.fileBytesOf(v!), 0);
    });

    test("two uploads at once on two nodes that fit only one at a time: exactly one is kept", async () => {
      const [u] = users(1);
      const other = await opened.another();
      const results = await Promise.allSettled([
        s.createFile(upload(u!, 600), QUOTA),
        other.createFile(upload(u!, 600), QUOTA),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
      assert.equal(refusedCode(results), "QUOTA_EXCEEDED");
      assert.equal(await s.fileBytesOf(u!), 600);
    });

    test("a send attaches the files in the order given, and the records name its message and room", async () => {
      const { room, ids } = await group(2);
      const a = await s.createFile(upload(ids[0]!, 10, true), QUOTA);
      const b = await s.createFile(upload(ids[0]!, 20), QUOTA);
      const { message, created } = await send(room.id, ids[0]!, [b.id, a.id], "two files");
      assert.equal(created, true);
      assert.deepEqual(message.files, [shown(b), shown(a)]);
      assert.deepEqual(await s.file(a.id), { ...a, messageId: message.id, roomId: room.id });
      assert.deepEqual(await s.file(b.id), { ...b, messageId: message.id, roomId: room.id });
    });

    test("every read of a message carries its files: by id, history, changes, the room's last message, search", async () => {
      const { room, ids } = await group(1);
      const f = await s.createFile(upload(ids[0]!, 10, true), QUOTA);
      const { message } = await send(room.id, ids[0]!, [f.id], "Quittung vom Baumarkt");
      const files = [shown(f)];
      assert.deepEqual((await s.message(message.id))?.files, files);
      assert.deepEqual((await s.history(room.id, { limit: 10 })).messages.at(-1)?.files, files);
      assert.deepEqual((await s.changes(room.id, 0, 10)).messages.at(-1)?.files, files);
      assert.deepEqual((await s.room(room.id))?.lastMessage?.files, files);
      const other = await opened.another();
      assert.deepEqual((await other.room(room.id))?.lastMessage?.files, files, "another node reads them too");
      const find = () => s.search([room.id], "baumarkt", 10);
      await until(async () => (await find()).length === 1, 5000, "the index to catch up");
      assert.deepEqual((await find())[0]?.files, files);
    });

    test("a message without files has an empty list", async () => {
      const { room, ids } = await group(1);
      const { message } = await send(room.id, ids[0]!, [], "no files");
      assert.deepEqual(message.files, []);
      assert.deepEqual((await s.message(message.id))?.files, []);
    });

    test("someone else's file is BAD_REQUEST, and nothing is sent or attached", async () => {
      const { room, ids } = await group(2);
      const theirs = await s.createFile(upload(ids[1]!, 10), QUOTA);
      const before = (await s.room(room.id))!.lastSeq;
      await assert.rejects(send(room.id, ids[0]!, [theirs.id], "mine now"), {
        code: "BAD_REQUEST",
        details: { fileId: theirs.id },
      });
      assert.equal((await s.room(room.id))!.lastSeq, before);
      assert.deepEqual(await s.file(theirs.id), theirs);
    });

    test("a file already attached, or one that does not exist, is BAD_REQUEST and nothing is sent", async () => {
      const { room, ids } = await group(1);
      const f = await s.createFile(upload(ids[0]!, 10), QUOTA);
      const fresh = await s.createFile(upload(ids[0]!, 10), QUOTA);
      const { message } = await send(room.id, ids[0]!, [f.id], "first");
      await assert.rejects(send(room.id, ids[0]!, [fresh.id, f.id], "again"), {
        code: "BAD_REQUEST",
        details: { fileId: f.id },
      });
      await assert.rejects(send(room.id, ids[0]!, ["987654321"], "ghost"), {
        code: "BAD_REQUEST",
        details: { fileId: "987654321" },
      });
      assert.equal((await s.room(room.id))!.lastSeq, message.seq);
      assert.deepEqual(await s.file(fresh.id), fresh, "the good file of the refused send stays unattached");
    });

    test("a repeated clientId gets the stored message with its files, not an error", async () => {
      const { room, ids } = await group(1);
      const f = await s.createFile(upload(ids[0]!, 10), QUOTA);
      const first = await send(room.id, ids[0]!, [f.id], "", "c-files");
      const again = await send(room.id, ids[0]!, [f.id], "", "c-files");
      assert.equal(again.created, false);
      assert.equal(again.message.id, first.message.id);
      assert.deepEqual(again.message.files, [shown(f)]);
    });

    test("the same file sent at once on two nodes is attached to exactly one message", async () => {
      const { room, ids } = await group(1);
      const f = await s.createFile(upload(ids[0]!, 10), QUOTA);
      const other = await opened.another();
      const results = await Promise.allSettled([
        send(room.id, ids[0]!, [f.id], "one"),
        other.sendMessage({
          roomId: room.id,
          senderId: ids[0]!,
          body: "two",
          clientId: null,
          replyToId: null,
          fileIds: [f.id],
          at: LATER,
        }),
      ]);
      const sent = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.message] : []));
      assert.equal(sent.length, 1);
      assert.equal(refusedCode(results), "BAD_REQUEST");
      assert.equal((await s.file(f.id))?.messageId, sent[0]!.id);
      assert.equal((await s.room(room.id))!.lastSeq, sent[0]!.seq);
    });

    test("a deleted message shows no files", async () => {
      const { room, ids } = await group(1);
      const f = await s.createFile(upload(ids[0]!, 10), QUOTA);
      const { message } = await send(room.id, ids[0]!, [f.id], "oops");
      const { message: deleted } = await s.deleteMessage(message.id, LATER);
      assert.deepEqual(deleted.files, []);
      assert.deepEqual((await s.message(message.id))?.files, []);
    });

    test("deleting a message removes its files' records (freeing the quota) and keeps their keys, thumbnails too, until forgotten", async () => {
      const { room, ids } = await group(1);
      const a = await s.createFile(upload(ids[0]!, 300, true), QUOTA);
      const b = await s.createFile(upload(ids[0]!, 200), QUOTA);
      const kept = await s.createFile(upload(ids[0]!, 100), QUOTA);
      const { message } = await send(room.id, ids[0]!, [a.id, b.id], "two files");
      const deleted = await s.deleteMessage(message.id, LATER);
      assert.equal(deleted.changed, true);
      const keys = [a.storeKey, thumbnailKey(a.storeKey), b.storeKey].sort();
      assert.deepEqual([...deleted.fileKeys].sort(), keys, "the image's thumbnail goes with it");
      assert.equal(await s.file(a.id), undefined);
      assert.equal(await s.file(b.id), undefined);
      assert.deepEqual(await s.file(kept.id), kept, "an upload of the same user not on the message stays");
      assert.equal(await s.fileBytesOf(ids[0]!), 100);
      const mine = async () =>
        (await s.pendingFileDeletions(LATER, 1000)).filter((k) => keys.includes(k)).sort();
      assert.deepEqual(await mine(), keys);
      const again = await s.deleteMessage(message.id, LATER);
      assert.deepEqual([again.changed, again.fileKeys], [false, []]);
      await s.forgetFileDeletions(deleted.fileKeys);
      assert.deepEqual(await mine(), []);
      await s.forgetFileDeletions(deleted.fileKeys);
    });

    test("the clean-up removes uploads never attached made at or before the cutoff, oldest first, a batch at a time", async () => {
      const { room, ids } = await group(1);
      const at = (s: number) => `2025-01-01T00:00:0${s}.000Z`;
      const made = async (second: number) => s.createFile({ ...upload(ids[0]!, 10), at: at(second) }, QUOTA);
      const f3 = await made(3);
      const f1 = await made(1);
      const f2 = await made(2);
      const later = await s.createFile({ ...upload(ids[0]!, 10), at: "2025-01-01T00:00:03.001Z" }, QUOTA);
      const attached = await made(0);
      await send(room.id, ids[0]!, [attached.id], "kept");
      const cleanedAt = "2025-01-02T00:00:00.000Z";
      assert.deepEqual(await s.removeUnattachedFiles(at(3), 2, cleanedAt), [f1.storeKey, f2.storeKey]);
      assert.deepEqual(await s.removeUnattachedFiles(at(3), 2, cleanedAt), [f3.storeKey]);
      assert.deepEqual(await s.removeUnattachedFiles(at(3), 2, cleanedAt), [], "a second run finds nothing");
      for (const gone of [f1, f2, f3]) assert.equal(await s.file(gone.id), undefined);
      assert.deepEqual(await s.file(later.id), later, "a millisecond younger than the cutoff stays");
      assert.equal((await s.file(attached.id))?.messageId !== null, true, "an attached one stays");
      assert.equal(await s.fileBytesOf(ids[0]!), 20);
      const pending = (await s.pendingFileDeletions(cleanedAt, 1000)).filter((k) =>
        [f1, f2, f3].some((f) => f.storeKey === k),
      );
      assert.deepEqual(pending.sort(), [f1.storeKey, f2.storeKey, f3.storeKey].sort());
      await s.forgetFileDeletions(pending);
    });

    test("a clean-up and a send of the same file at once on two nodes: it is either sent or removed, never both", async () => {
      const { room, ids } = await group(1);
      const other = await opened.another();
      for (let round = 0; round < 5; round++) {
        const f = await s.createFile({ ...upload(ids[0]!, 10), at: "2024-06-01T00:00:00.000Z" }, QUOTA);
        const [sent, removed] = await Promise.allSettled([
          other.sendMessage({
            roomId: room.id,
            senderId: ids[0]!,
            body: "",
            clientId: null,
            replyToId: null,
            fileIds: [f.id],
            at: LATER,
          }),
          s.removeUnattachedFiles("2024-06-01T00:00:00.000Z", 10, "2024-06-02T00:00:00.000Z"),
        ]);
        assert.equal(removed.status, "fulfilled");
        const removedKeys = removed.status === "fulfilled" ? removed.value : [];
        const record = await s.file(f.id);
        if (sent.status === "fulfilled") {
          assert.deepEqual(removedKeys, [], `round ${round}: sent, so not removed`);
          assert.equal(record?.messageId, sent.value.message.id);
        } else {
          assert.equal((sent.reason as { code?: string }).code, "BAD_REQUEST", `round ${round}`);
          assert.deepEqual(removedKeys, [f.storeKey], `round ${round}: removed, so not sent`);
          assert.equal(record, undefined);
        }
      }
    });

    test("pending deletions come oldest first, up to a limit, made at or before the time asked", async () => {
      const [u] = users(1);
      const f = await s.createFile(upload(u!, 10), QUOTA);
      const g = await s.createFile(upload(u!, 10), QUOTA);
      await s.deleteFile(g.id, "2023-01-01T00:00:01.000Z");
      await s.deleteFile(f.id, "2023-01-01T00:00:00.000Z");
      assert.deepEqual(await s.pendingFileDeletions("2023-01-01T00:00:00.999Z", 10), [f.storeKey]);
      assert.deepEqual(await s.pendingFileDeletions("2023-01-01T00:00:01.000Z", 1), [f.storeKey]);
      assert.deepEqual(await s.pendingFileDeletions("2023-01-01T00:00:01.000Z", 10), [
        f.storeKey,
        g.storeKey,
      ]);
      await s.forgetFileDeletions([f.storeKey]);
      assert.deepEqual(await s.pendingFileDeletions("2023-01-01T00:00:01.000Z", 10), [g.storeKey]);
      await s.forgetFileDeletions([g.storeKey]);
    });

    test("a removed record is gone, and removing it again is fine", async () => {
      const [u] = users(1);
      const f = await s.createFile(upload(u!, 10), QUOTA);
      await s.deleteFile(f.id, LATER);
      assert.equal(await s.file(f.id), undefined);
      assert.equal(await s.fileBytesOf(u!), 0);
      await s.deleteFile(f.id, LATER);
    });
  });
}
