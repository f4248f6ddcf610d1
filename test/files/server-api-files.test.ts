/**
 * Files through the server API: the PHP app uploads a file as one of its users
 * (`POST /api/server/users/:userId/files`, multipart) and posts a message with it
 * (`POST /api/server/messages` with `fileIds`). The upload has the user's own limits and quota;
 * TimeWise itself (no senderId) sends no files; a key without the `messages` scope may not upload.
 * Runs on SQLite and, with TEST_CHAT_STORE=postgres, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { hasBytes, linkUser, postFile, unsignedFile } from "../support/files.js";
import { startServer, type TestServer, waitFor } from "../support/harness.js";
import { clientId, group, person } from "../support/rooms.js";

const KEY = randomBytes(24).toString("hex");
const BADGE = randomBytes(24).toString("hex");

describe("files through the server API", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: { SERVICE_API_KEY: KEY, SERVER_API_KEYS: `badge:unread:${BADGE}`, FILES_QUOTA_BYTES: "1000" },
    });
  });
  after(() => server?.close());

  const uploadAs = (userId: string, bytes: Uint8Array, key = KEY) =>
    postFile(server.url, `Bearer ${key}`, bytes, {
      name: "Dienstplan März.pdf",
      path: `/api/server/users/${userId}/files`,
    });
  const post = async (body: unknown) => {
    const res = await fetch(`${server.url}/api/server/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { message?: Message; error?: { code: string } },
    };
  };

  test("an upload as a user, then a message with it: stored, acked and broadcast with the file", async () => {
    const ann = await person(server);
    const bob = await person(server);
    const room = await group(ann, [bob]);
    const uploaded = await uploadAs(ann.id, new TextEncoder().encode("%PDF-1.4 roster"));
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.error));
    const file = uploaded.file!;
    assert.deepEqual([file.name, file.size], ["Dienstplan März.pdf", 15]);
    const record = await server.app.store.file(file.id);
    assert.deepEqual([record?.uploaderId, record?.messageId], [ann.id, null]);
    assert.equal(await hasBytes(server.config.files.store, record!.storeKey), true);

    const arrival = waitFor(bob.socket, "message:new", (m) => m.roomId === room.id);
    const sent = await post({
      roomId: room.id,
      senderId: ann.id,
      body: "",
      clientId: clientId(),
      fileIds: [file.id],
    });
    assert.equal(sent.status, 201);
    // each reader gets links signed for them, so the files are compared by the paths they name
    assert.deepEqual(sent.body.message?.files.map(unsignedFile), [unsignedFile(file)]);
    assert.equal(sent.body.message?.senderId, ann.id);
    const received = await arrival;
    assert.deepEqual(
      { ...received, files: received.files.map(unsignedFile) },
      { ...sent.body.message, files: sent.body.message?.files.map(unsignedFile) },
    );
    assert.equal(linkUser(received.files[0]!.url), bob.id);
    assert.equal((await server.app.store.file(file.id))?.messageId, sent.body.message?.id);
  });

  test("an upload counts against the user's quota: past it, 413 QUOTA_EXCEEDED and nothing kept", async () => {
    const ann = await person(server);
    assert.equal((await uploadAs(ann.id, new Uint8Array(600))).status, 201);
    const over = await uploadAs(ann.id, new Uint8Array(600));
    assert.deepEqual([over.status, over.error?.code], [413, "QUOTA_EXCEEDED"]);
    assert.equal(await server.app.store.fileBytesOf(ann.id), 600);
  });

  test("an upload for a user who does not exist is 404 NOT_FOUND", async () => {
    const answer = await uploadAs("987654321", new Uint8Array(10));
    assert.deepEqual([answer.status, answer.error?.code], [404, "NOT_FOUND"]);
  });

  test("files need the user who uploaded them as sender: without senderId, 400 and nothing sent", async () => {
    const ann = await person(server);
    const room = await group(ann, []);
    const { file } = await uploadAs(ann.id, new Uint8Array(10));
    const sent = await post({ roomId: room.id, body: "", clientId: clientId(), fileIds: [file!.id] });
    assert.deepEqual([sent.status, sent.body.error?.code], [400, "BAD_REQUEST"]);
    assert.equal((await server.app.store.file(file!.id))?.messageId, null);
    assert.equal((await server.app.store.room(room.id))?.lastSeq, 0);
  });

  test("someone else's file is 400 BAD_REQUEST", async () => {
    const ann = await person(server);
    const bob = await person(server);
    const room = await group(ann, [bob]);
    const { file } = await uploadAs(ann.id, new Uint8Array(10));
    const sent = await post({
      roomId: room.id,
      senderId: bob.id,
      body: "",
      clientId: clientId(),
      fileIds: [file!.id],
    });
    assert.deepEqual([sent.status, sent.body.error?.code], [400, "BAD_REQUEST"]);
  });

  test("a key without the messages scope may not upload: 403 FORBIDDEN, nothing kept", async () => {
    const ann = await person(server);
    const answer = await uploadAs(ann.id, new Uint8Array(10), BADGE);
    assert.deepEqual([answer.status, answer.error?.code], [403, "FORBIDDEN"]);
    assert.equal(await server.app.store.fileBytesOf(ann.id), 0);
  });
});
