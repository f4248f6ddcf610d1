/**
 * message:send with fileIds, through a real server and real clients: the ack, the broadcast to the
 * other members and the stored history all carry the files; files that can't be sent are refused
 * with BAD_REQUEST and nothing is sent. The uploads here are records made through the server's own
 * store (the upload route has its own tests), so each case names exactly the file it needs.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import type { FileRecord } from "../../src/storage/chat-store.js";
import { ok, request, startServer, type TestServer, waitFor } from "../support/harness.js";
import { allMessages, clientId, expectError, group, person, roundTrip } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

/** The message with its files' links left out (they are signed for whoever received it). */
function withoutLinks(message: Message): unknown {
  return { ...message, files: message.files.map(({ url: _u, thumbnailUrl: _t, ...rest }) => rest) };
}

/** A file record of `uploaderId`'s, as an upload leaves it. */
function uploaded(uploaderId: string, name = "receipt.png"): Promise<FileRecord> {
  return server.app.store.createFile(
    {
      uploaderId,
      name,
      size: 1234,
      type: "image/png",
      width: 64,
      height: 48,
      hasThumbnail: true,
      storeKey: `t/${randomUUID()}`,
      at: new Date().toISOString(),
    },
    server.config.files.quotaBytes,
  );
}

test("a message with files and no words is stored, acked and broadcast with its files in order", async () => {
  const ann = await person(server);
  const bob = await person(server);
  const room = await group(ann, [bob]);
  const photo = await uploaded(ann.id);
  const scan = await uploaded(ann.id, "scan.png");
  const arrival = waitFor(bob.socket, "message:new", (m) => m.roomId === room.id);
  const { message } = await ok(ann.socket, "message:send", {
    roomId: room.id,
    body: "",
    clientId: clientId(),
    fileIds: [scan.id, photo.id],
  });
  assert.deepEqual(
    message.files.map((f) => [f.id, f.name, f.size, f.type, f.width, f.height]),
    [
      [scan.id, "scan.png", 1234, "image/png", 64, 48],
      [photo.id, "receipt.png", 1234, "image/png", 64, 48],
    ],
  );
  assert.equal(message.body, "");
  // each member gets the same message, with file links signed for them
  const bobs = await arrival;
  assert.deepEqual(withoutLinks(bobs), withoutLinks(message));
  assert.deepEqual(
    bobs.files.map((f) => new URL(f.url, server.url).searchParams.get("u")),
    [bob.id, bob.id],
  );
  assert.deepEqual((await allMessages(bob.socket, room.id)).map(withoutLinks), [withoutLinks(message)]);
  const stored = await server.app.store.file(photo.id);
  assert.deepEqual([stored?.messageId, stored?.roomId], [message.id, room.id]);
});

test("a blank message without files is still BAD_REQUEST", async () => {
  const ann = await person(server);
  const room = await group(ann, []);
  expectError(
    await request(ann.socket, "message:send", {
      roomId: room.id,
      body: " ",
      clientId: clientId(),
      fileIds: [],
    }),
    "BAD_REQUEST",
  );
});

test("sending someone else's file is BAD_REQUEST naming it, and the room sees nothing", async () => {
  const ann = await person(server);
  const bob = await person(server);
  const room = await group(ann, [bob]);
  const annsFile = await uploaded(ann.id);
  const answer = await request(bob.socket, "message:send", {
    roomId: room.id,
    body: "look",
    clientId: clientId(),
    fileIds: [annsFile.id],
  });
  expectError(answer, "BAD_REQUEST");
  assert.deepEqual(!answer.ok && answer.error.details, { fileId: annsFile.id });
  await roundTrip(ann.socket, bob.socket);
  assert.deepEqual(await allMessages(ann.socket, room.id), []);
  assert.equal((await server.app.store.file(annsFile.id))?.messageId, null);
});

test("a file sent once can't be sent again, in the same room or another", async () => {
  const ann = await person(server);
  const room = await group(ann, []);
  const other = await group(ann, []);
  const f = await uploaded(ann.id);
  const first = await ok(ann.socket, "message:send", {
    roomId: room.id,
    body: "",
    clientId: clientId(),
    fileIds: [f.id],
  });
  for (const roomId of [room.id, other.id]) {
    expectError(
      await request(ann.socket, "message:send", {
        roomId,
        body: "again",
        clientId: clientId(),
        fileIds: [f.id],
      }),
      "BAD_REQUEST",
      roomId,
    );
  }
  assert.deepEqual(await allMessages(ann.socket, room.id), [first.message]);
  assert.deepEqual(await allMessages(ann.socket, other.id), []);
});

test("POST /api/rooms/:roomId/messages takes fileIds too", async () => {
  const ann = await person(server);
  const room = await group(ann, []);
  const f = await uploaded(ann.id);
  const res = await fetch(`${server.url}/api/rooms/${room.id}/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${await server.token(ann.id)}`, "content-type": "application/json" },
    body: JSON.stringify({ body: "from HTTP", clientId: clientId(), fileIds: [f.id] }),
  });
  assert.equal(res.status, 201);
  const { message } = (await res.json()) as { message: { files: { id: string }[] } };
  assert.deepEqual(
    message.files.map((file) => file.id),
    [f.id],
  );
});
