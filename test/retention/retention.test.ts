/**
 * (v2.4) Retention, erasure and the audit log on a real server (SQLite, and PostgreSQL with
 * TEST_CHAT_STORE=postgres). The app's clock is a number the test sets, and the daily job's turn
 * is fired by hand (ManualTimers), so the boundary is checked to the millisecond.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import yauzl from "yauzl";
import { RETENTION_EVERY_MS } from "../../src/chat/retention/service.js";
import type { Message } from "../../src/protocol/index.js";
import { postFile } from "../support/files.js";
import { ManualTimers, ok, startServer, type TestServer, until } from "../support/harness.js";
import { clientId, group, person, send } from "../support/rooms.js";

/** The entries of a ZIP, name to bytes, read with yauzl. */
function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, file) => {
      if (error) return reject(error);
      const entries = new Map<string, Buffer>();
      file.on("entry", (entry: yauzl.Entry) => {
        file.openReadStream(entry, async (openError, stream) => {
          if (openError) return reject(openError);
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          entries.set(entry.fileName, Buffer.concat(chunks));
          file.readEntry();
        });
      });
      file.on("end", () => resolve(entries));
      file.readEntry();
    });
  });
}

const KEY = "retention-test-service-key-0123456789";
const DAY = 24 * 60 * 60 * 1000;

describe("retention, erasure and the audit log", () => {
  let server: TestServer;
  let at = Date.now();
  const timers = new ManualTimers();
  before(async () => {
    server = await startServer({
      env: { SERVICE_API_KEY: KEY, RETENTION_DAYS: "30" },
      app: { now: () => at, jobTimers: timers },
    });
  });
  after(() => server?.close());

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/api/server/${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("deletes exactly the messages older than RETENTION_DAYS or their room's own, as a delete does", async () => {
    const ann = await person(server);
    const bob = await person(server);
    const plain = await group(ann, [bob]);
    const short = await group(ann, [bob]);
    const old = await send(ann.socket, plain.id, "old one");
    at += 1;
    const edge = await send(ann.socket, plain.id, "exactly thirty days");
    const shortOld = await send(ann.socket, short.id, "two days old");
    assert.equal((await api("PUT", `rooms/${short.id}/retention`, { days: 1 })).status, 200);
    assert.equal((await api("PUT", `rooms/${plain.id}/retention`, { days: null })).status, 200);

    const seen: Message[] = [];
    bob.socket.on("message:deleted", (m: Message) => seen.push(m));
    // the edge message is exactly 30 days old: kept; the first is 1 ms older: deleted
    at = Date.parse(edge.createdAt) + 30 * DAY;
    await timers.advance(RETENTION_EVERY_MS);

    const history = async (roomId: string) =>
      (await server.app.store.history(roomId, { limit: 10 })).messages;
    const plainNow = await history(plain.id);
    const gone = plainNow.find((m) => m.id === old.id)!;
    assert.deepEqual([gone.deleted, gone.body, gone.seq], [true, "", old.seq]);
    assert.ok(gone.rev > old.rev);
    assert.equal(plainNow.find((m) => m.id === edge.id)!.deleted, false);
    assert.equal((await history(short.id)).find((m) => m.id === shortOld.id)!.deleted, true);
    await until(() => seen.length >= 2, 5000, "both message:deleted events");
    assert.deepEqual(seen.map((m) => m.id).sort(), [old.id, shortOld.id].sort());
    // catch-up sees the deletion as a change after the old rev
    const changes = await server.app.store.changes(plain.id, old.rev, 10);
    assert.ok(changes.messages.some((m) => m.id === old.id && m.deleted));
  });

  test("erasure deletes every message of the user, and each change is in the audit log", async () => {
    const cid = await person(server);
    const room = await group(cid, []);
    await send(cid.socket, room.id, "one");
    await send(cid.socket, room.id, "two");
    const answer = await api("DELETE", `users/${cid.id}/messages`);
    assert.deepEqual([answer.status, await answer.json()], [200, { deleted: 2 }]);
    const audit = (await (await api("GET", "audit?limit=1000")).json()) as {
      entries: { action: string; target: string; details: Record<string, unknown> }[];
    };
    const actions = audit.entries.map((e) => `${e.action} ${e.target}`);
    assert.ok(actions.includes(`users.erase user:${cid.id}`));
    assert.ok(actions.includes(`rooms.retention room:${room.id}`) === false);
    assert.deepEqual(audit.entries.find((e) => e.action === "users.erase")!.details, { deleted: 2 });
    assert.ok(audit.entries.some((e) => e.action === "rooms.retention" && e.details.days === 1));
  });

  test("the export is a ZIP of the user's messages (with their rooms) and their files' bytes", async () => {
    const dee = await person(server);
    const room = await group(dee, []);
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    const upload = await postFile(server.url, `Bearer ${await server.token(dee.id)}`, bytes, {
      name: "a.bin",
    });
    assert.equal(upload.status, 201);
    const { message } = await ok(dee.socket, "message:send", {
      roomId: room.id,
      body: "with a file",
      clientId: clientId(),
      fileIds: [upload.file!.id],
    });
    const plain = await send(dee.socket, room.id, "plain");
    const answer = await api("GET", `users/${dee.id}/export`);
    assert.equal(answer.headers.get("content-type"), "application/zip");
    const entries = await unzip(Buffer.from(await answer.arrayBuffer()));
    const json = JSON.parse(entries.get("messages.json")!.toString("utf8")) as {
      userId: string;
      rooms: { id: string }[];
      messages: Message[];
    };
    assert.equal(json.userId, dee.id);
    assert.deepEqual(
      json.rooms.map((r) => r.id),
      [room.id],
    );
    assert.deepEqual(
      json.messages.map((m) => [m.id, m.body]),
      [
        [message.id, "with a file"],
        [plain.id, "plain"],
      ],
    );
    assert.deepEqual([...entries.keys()].sort(), [`files/${upload.file!.id}-a.bin`, "messages.json"]);
    assert.deepEqual(new Uint8Array(entries.get(`files/${upload.file!.id}-a.bin`)!), bytes);
  });
});
