/**
 * The group-commit queue lets the next batch commit while the previous one's sync runs, and still
 * acknowledges, mirrors and shows writes only once they are durable, in commit order. The syncs
 * here finish when the test says (a stand-in for the WAL's fdatasync on the thread pool); the
 * database, its transactions and the read snapshots are the real SQLite ones.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { DurableReads } from "../../src/storage/sqlite/durable-reads.js";
import { openDatabase, type SqliteDatabase } from "../../src/storage/sqlite/open.js";
import {
  type CommitSync,
  MAX_IN_FLIGHT,
  OVERLAP_UP_TO,
  WriteQueue,
} from "../../src/storage/sqlite/write-queue.js";
import { tempDir } from "../support/harness.js";

const scratch = tempDir();
after(() => scratch.remove());
let n = 0;

/** Syncs that finish only when `finish(i)` is called, with or without an error. */
class HeldSync implements CommitSync {
  readonly calls: ((error: Error | null) => void)[] = [];
  afterCommit(done: (error: Error | null) => void): void {
    this.calls.push(done);
  }
  finish(i: number, error: Error | null = null): void {
    this.calls[i]!(error);
  }
  close(): void {}
}

interface Setup {
  db: SqliteDatabase;
  sync: HeldSync;
  reads: DurableReads;
  queue: WriteQueue;
  /** a write that adds room `id`; `log` hears its id when it is mirrored (apply) */
  addRoom: (id: number) => Promise<number>;
  applied: number[];
  /** what a reader is shown now: the rooms it finds */
  visible: (ids: number[]) => number[];
}

function setup(): Setup {
  const db = openDatabase(join(scratch.dir, `queue-${++n}.db`));
  const sync = new HeldSync();
  const reads = new DurableReads(db);
  const queue = new WriteQueue(db, sync, reads);
  const insert = db.prepare(
    "INSERT INTO rooms (id, type, name, created_at, last_activity_at) VALUES (?, 'group', 'g', 'x', 'x')",
  );
  const applied: number[] = [];
  return {
    db,
    sync,
    reads,
    queue,
    applied,
    addRoom: (id) =>
      queue.run(() => {
        insert.run(id);
        return { result: id, apply: () => applied.push(id) };
      }),
    visible: (ids) => ids.filter((id) => reads.mirrorReads.roomById.get(id) !== undefined),
  };
}

/** Lets the queue's setImmediate (the end of the turn) and the promise callbacks run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks which of the promises have settled, and how. */
function watch(promises: Promise<unknown>[]): string[] {
  const seen: string[] = [];
  promises.forEach((p, i) => {
    p.then(
      () => seen.push(`ok ${i}`),
      (e: Error) => seen.push(`failed ${i}: ${e.message}`),
    );
  });
  return seen;
}

test("the next batch commits while the previous sync runs; acks and the mirror follow commit order", async () => {
  const s = setup();
  const first = s.addRoom(1);
  await turn();
  assert.equal(s.sync.calls.length, 1, "the first batch committed and waits for its sync");
  const second = s.addRoom(2);
  await turn();
  assert.equal(s.sync.calls.length, 2, "the second batch committed without waiting for the first sync");
  const seen = watch([first, second]);

  s.sync.finish(1); // the second sync finishes first
  await turn();
  assert.deepEqual(seen, [], "nothing is told before the batch committed earlier is durable");
  assert.deepEqual(s.applied, []);

  s.sync.finish(0);
  await turn();
  assert.deepEqual(seen, ["ok 0", "ok 1"]);
  assert.deepEqual(s.applied, [1, 2]);
  await s.queue.close();
  s.reads.close();
  s.db.close();
});

test("reads show a batch only once it is durable, also while a later batch is in flight", async () => {
  const s = setup();
  const first = s.addRoom(1);
  await turn();
  const second = s.addRoom(2);
  await turn();
  assert.equal(s.sync.calls.length, 2);
  assert.deepEqual(s.visible([1, 2]), [], "both batches are committed, neither is durable");

  s.sync.finish(0);
  await first;
  assert.deepEqual(s.visible([1, 2]), [1], "the first is durable, the second is not yet");

  s.sync.finish(1);
  await second;
  assert.deepEqual(s.visible([1, 2]), [1, 2]);
  await s.queue.close();
  s.reads.close();
  s.db.close();
});

test("when a sync fails, the batch committed after it fails too, even if its own sync succeeded", async () => {
  const s = setup();
  const first = s.addRoom(1);
  await turn();
  const second = s.addRoom(2);
  await turn();
  const seen = watch([first, second]);
  s.sync.finish(1);
  s.sync.finish(0, new Error("EIO: the disk failed"));
  await turn();
  assert.deepEqual(seen, ["failed 0: EIO: the disk failed", "failed 1: EIO: the disk failed"]);
  assert.deepEqual(s.applied, [], "nothing failed is mirrored");

  // the queue goes on: a later write commits and is acknowledged once durable
  const third = s.addRoom(3);
  await turn();
  assert.equal(s.sync.calls.length, 3);
  s.sync.finish(2);
  assert.equal(await third, 3);
  assert.deepEqual(s.applied, [3]);
  await s.queue.close();
  s.reads.close();
  s.db.close();
});

test(`at most ${MAX_IN_FLIGHT} batches wait for their sync at once`, async () => {
  const s = setup();
  const writes: Promise<number>[] = [];
  for (let id = 1; id <= MAX_IN_FLIGHT + 1; id++) {
    writes.push(s.addRoom(id));
    await turn();
  }
  assert.equal(s.sync.calls.length, MAX_IN_FLIGHT, "the last batch waits");
  s.sync.finish(0);
  await turn();
  assert.equal(s.sync.calls.length, MAX_IN_FLIGHT + 1, "it commits once the oldest is durable");
  for (let i = 1; i <= MAX_IN_FLIGHT; i++) s.sync.finish(i);
  assert.deepEqual(await Promise.all(writes), [1, 2, 3]);
  await s.queue.close();
  s.reads.close();
  s.db.close();
});

test(`a batch of more than ${OVERLAP_UP_TO} writes waits for the previous sync (a busy server batches more)`, async () => {
  const s = setup();
  const first = s.addRoom(1);
  await turn();
  const many = Array.from({ length: OVERLAP_UP_TO + 1 }, (_, i) => s.addRoom(10 + i));
  await turn();
  assert.equal(s.sync.calls.length, 1, "the large batch did not commit beside the first");
  s.sync.finish(0);
  await first;
  await turn();
  assert.equal(s.sync.calls.length, 2, "it committed, as one batch, once the first was durable");
  s.sync.finish(1);
  assert.equal((await Promise.all(many)).length, OVERLAP_UP_TO + 1);

  // exactly OVERLAP_UP_TO writes still commit beside a sync in flight
  const again = s.addRoom(2);
  await turn();
  const few = Array.from({ length: OVERLAP_UP_TO }, (_, i) => s.addRoom(30 + i));
  await turn();
  assert.equal(s.sync.calls.length, 4);
  s.sync.finish(2);
  s.sync.finish(3);
  await Promise.all([again, ...few]);
  await s.queue.close();
  s.reads.close();
  s.db.close();
});

test("a tail checkpoint runs with nothing in flight: the batch after the request waits for the sync", async () => {
  const s = setup();
  const first = s.addRoom(1);
  await turn();
  s.queue.requestTailCheckpoint();
  const second = s.addRoom(2);
  await turn();
  assert.equal(s.sync.calls.length, 1, "no batch commits beside a sync while a checkpoint is due");
  s.sync.finish(0);
  await first;
  await turn();
  assert.equal(s.sync.calls.length, 2);
  s.sync.finish(1);
  assert.equal(await second, 2);
  await s.queue.close();
  s.reads.close();
  s.db.close();
});
