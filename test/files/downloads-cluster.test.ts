/**
 * Two real node processes on one PostgreSQL database and one Redis, with the S3 store (s3rver on
 * loopback) as several nodes need: a file uploaded through node A is downloaded through node B
 * with the link node B's broadcast gave, the link works on either node (the link secret is in
 * the shared database), and a member removed on node A loses access through node B at once.
 * Also two in-process nodes on one chat database and Redis (SQLite by default: its fan-out sends
 * each member their own copy of a message with files through the Redis adapter).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type Cluster, startCluster } from "../support/cluster.js";
import { download, linkUser, uploadFile } from "../support/files.js";
import {
  ok,
  requireService,
  signToken,
  startServer,
  TEST_REDIS_URL,
  type TestServer,
  waitFor,
} from "../support/harness.js";
import type { ServerProcess } from "../support/process.js";
import { clientId } from "../support/rooms.js";
import { startS3, type TestS3 } from "../support/s3.js";

const skip = await requireService("postgres", "redis");

describe("two nodes sharing the S3 store", { skip }, () => {
  let s3: TestS3;
  let cluster: Cluster;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    s3 = await startS3();
    cluster = await startCluster({ users: ["Ann", "Bob"], env: s3.env });
    [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
  });
  after(async () => {
    await cluster?.close();
    await s3?.close();
  });

  test("a file uploaded on node A downloads on node B with B's link, until the reader is removed", async () => {
    const [annUser, bobUser] = cluster.users as [Cluster["users"][0], Cluster["users"][0]];
    const ann = await cluster.connect(a, annUser);
    const bob = await cluster.connect(b, bobUser);
    const { room } = await ok(ann, "room:create", { name: "Shared files", memberIds: [bobUser.id] });
    const bytes = Buffer.from("Schichtplan Mai: A früh, B spät\n".repeat(100));
    const uploaded = await uploadFile(a.url, signToken(annUser.id), "mai.txt", bytes);
    const arrival = waitFor(bob, "message:new", (m) => m.roomId === room.id);
    await ok(ann, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [uploaded.id],
    });
    const link = (await arrival).files[0]!.url;
    assert.equal(linkUser(link), bobUser.id);
    for (const node of [b, a]) {
      const got = await download(node.url, link);
      assert.equal(got.status, 200, node.url);
      assert.ok(got.body.equals(bytes), node.url);
      const part = await download(node.url, link, { headers: { range: "bytes=0-10" } });
      assert.equal(part.status, 206, node.url);
      assert.equal(part.body.toString(), bytes.subarray(0, 11).toString(), node.url);
    }
    await ok(ann, "room:removeMember", { roomId: room.id, userId: bobUser.id });
    // no waiting for room:removed on B: the acknowledged removal holds on every node at once
    const after = await download(b.url, link);
    assert.equal(after.status, 404);
    assert.equal((await download(a.url, uploaded.url)).status, 200, "the uploader still has it");
  });
});

describe("two nodes on one chat database and Redis", { skip: await requireService("redis") }, () => {
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `twc-test-${randomUUID().slice(0, 8)}` };
    a = await startServer({ env });
    // the same SQLite path: the same chat file and the same FILES_DIR beside it
    b = await startServer({ env, sqlitePath: a.sqlitePath, database: a.database ?? undefined });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  test("a member on the other node gets the message with links of their own, which work there", async () => {
    const annUser = await a.addUser("Ann");
    const bobUser = await a.addUser("Bob");
    const ann = await a.connect(annUser);
    const bob = await b.connect(bobUser);
    const { room } = await ok(ann, "room:create", { name: "Across nodes", memberIds: [bobUser.id] });
    const bytes = Buffer.from("Urlaubsantrag\n");
    const uploaded = await uploadFile(a.url, await a.token(annUser.id), "urlaub.txt", bytes);
    const arrival = waitFor(bob, "message:new", (m) => m.roomId === room.id);
    const own = waitFor(ann, "message:new", (m) => m.roomId === room.id);
    await ok(ann, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [uploaded.id],
    });
    const [bobs, anns] = [(await arrival).files[0]!, (await own).files[0]!];
    assert.equal(linkUser(bobs.url), bobUser.id);
    assert.equal(linkUser(anns.url), annUser.id);
    const got = await download(b.url, bobs.url);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(bytes));
  });
});
