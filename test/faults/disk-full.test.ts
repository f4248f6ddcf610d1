/**
 * The disk filling up under the chat database: sends answer UNAVAILABLE (retry later), never
 * INTERNAL, the server lives on, and once space is freed sends work again with every message
 * acknowledged before still there, in order. The disk is a small tmpfs mounted for the test (it
 * needs root, as in CI) and filled with a filler file; deleting the filler frees the space.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { ok, request, sqliteOnly, startServer, type TestServer, until } from "../support/harness.js";
import { group, type Person, people } from "../support/rooms.js";

const mountPoint = mkdtempSync(join(tmpdir(), "twc-diskfull-"));

/** Mounts an 8 MB tmpfs; returns why it can't, or null. */
function mountTmpfs(): string | null {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const run = spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", mountPoint], {
    encoding: "utf8",
  });
  return run.status === 0 ? null : `mount failed: ${run.error?.message ?? run.stderr.trim()}`;
}

// the full disk is the one under the SQLite file; PostgreSQL keeps its data in its own folder
const pgPass = sqliteOnly("the disk under the SQLite file fills up");
const problem = pgPass || mountTmpfs();
if (problem !== null && !pgPass) {
  if (process.env.CI === "true") throw new Error(`CI=true needs a tmpfs for the disk-full test: ${problem}`);
  process.stderr.write(`skipping the disk-full test: ${problem}\n`);
}
const skip = problem ?? false;

after(() => {
  if (problem === null) {
    const run = spawnSync("umount", [mountPoint]);
    if (run.status !== 0) spawnSync("umount", ["-l", mountPoint]);
  }
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Writes a file until the file system is full; returns its path. */
function fillDisk(): string {
  const path = join(mountPoint, "filler");
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 1024; i++) writeSync(fd, chunk); // at most 64 MB: more than the tmpfs holds
    throw new Error("the tmpfs never filled up");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return path;
}

describe("the disk under the chat database fills up", { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ sqlitePath: join(mountPoint, "chat.db") });
  });
  after(async () => {
    await server?.close();
  });

  test("sends answer UNAVAILABLE while the disk is full and work again, with nothing acknowledged lost, once space is freed", async () => {
    const [ann, ben] = (await people(server, 2, "Disk")) as [Person, Person];
    const room = await group(ann, [ben]);
    const acked: Message[] = [];
    const big = (label: string) => `${label} ${"x".repeat(3900)}`;
    for (let i = 0; i < 5; i++) {
      acked.push(
        (
          await ok(ann.socket, "message:send", {
            roomId: room.id,
            body: big(`before ${i}`),
            clientId: randomUUID(),
          })
        ).message,
      );
    }

    const filler = fillDisk();
    // pages already allocated may still take a few messages; new ones need space there is none of
    const codes: string[] = [];
    for (let i = 0; i < 300 && codes.length < 3; i++) {
      const ack = await request(ann.socket, "message:send", {
        roomId: room.id,
        body: big(`full ${i}`),
        clientId: randomUUID(),
      });
      if (ack.ok) acked.push(ack.message);
      else codes.push(ack.error.code);
    }
    assert.deepEqual(
      codes,
      ["UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE"],
      "sends on a full disk answer UNAVAILABLE",
    );

    // the process lives and still answers reads
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.equal((await request(ben.socket, "message:history", { roomId: room.id, limit: 1 })).ok, true);

    rmSync(filler);
    const retryId = randomUUID();
    await until(
      async () => {
        const ack = await request(ann.socket, "message:send", {
          roomId: room.id,
          body: "after",
          clientId: retryId,
        });
        if (ack.ok) acked.push(ack.message);
        return ack.ok;
      },
      10_000,
      "sends succeed once space is freed",
    );

    const stored: Message[] = [];
    let afterSeq = 0;
    for (let page = 0; page < 20; page++) {
      const { messages, hasMore } = await ok(ben.socket, "message:history", {
        roomId: room.id,
        afterSeq,
        limit: 100,
      });
      stored.push(...messages);
      if (!hasMore || messages.length === 0) break;
      afterSeq = messages.at(-1)!.seq;
    }
    assert.deepEqual(
      stored.map((m) => m.id),
      acked.map((m) => m.id),
      "exactly the acknowledged messages, in order",
    );
    assert.deepEqual(
      stored.map((m) => m.seq),
      stored.map((_, i) => i + 1),
      "seq has no gaps",
    );
  });
});
