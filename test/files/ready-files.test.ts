/**
 * `GET /ready` checks the file store (`files`): the disk folder must be writable, the S3 bucket
 * must answer. A failing file store is 503 naming `files` while the other checks stay `ok`, and
 * the check recovers by itself. Runs on SQLite and, with TEST_CHAT_STORE=postgres, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import type { ReadyBody } from "../../src/protocol/index.js";
import { startServer, type TestServer } from "../support/harness.js";
import { startS3 } from "../support/s3.js";

async function ready(server: TestServer): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${server.url}/ready`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/** What every check but `files` says on this server: all ok. */
const othersOk = (server: TestServer) =>
  server.chatStore === "postgres" ? { database: "ok", users: "ok" } : { sqlite: "ok", users: "ok" };

test("the disk store: 503 naming files when its folder can't be written, 200 again once it can", async () => {
  const server = await startServer();
  try {
    const store = server.config.files.store;
    assert.equal(store.kind, "disk");
    const dir = store.kind === "disk" ? store.dir : "";
    assert.deepEqual(await ready(server), {
      status: 200,
      body: { status: "ok", checks: { ...othersOk(server), files: "ok" } },
    });
    // a plain file where the folder should be: nothing can be stored under it
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, "not a folder");
    assert.deepEqual(await ready(server), {
      status: 503,
      body: { status: "unavailable", checks: { ...othersOk(server), files: "unavailable" } },
    });
    rmSync(dir);
    assert.equal((await ready(server)).status, 200, "the folder is made again");
  } finally {
    await server.close();
  }
});

test("the S3 store: 503 naming files when the bucket does not answer", async () => {
  const s3 = await startS3();
  const server = await startServer({ env: s3.env });
  try {
    assert.deepEqual(await ready(server), {
      status: 200,
      body: { status: "ok", checks: { ...othersOk(server), files: "ok" } },
    });
    await s3.close();
    assert.deepEqual(await ready(server), {
      status: 503,
      body: { status: "unavailable", checks: { ...othersOk(server), files: "unavailable" } },
    });
  } finally {
    await server.close();
    await s3.close();
  }
});
