/**
 * (v2.4) The user export with many files, on SQLite and PostgreSQL (TEST_CHAT_STORE=postgres):
 * `GET /api/server/users/:id/export` on a real server gives a ZIP whose entries are exactly
 * `messages.json` (the user's live messages, with their rooms) and each of their files, byte for
 * byte. The same export, written by `sendUserExport` over a real HTTP response from the server's
 * own store and disk file store, reads one file at a time: the file store is wrapped only to count
 * how many of its reads are open at once.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import yauzl from "yauzl";
import { DiskFileStore } from "../../src/files/disk-store.js";
import type { FileStore } from "../../src/files/store.js";
import { sendUserExport } from "../../src/http/user-export.js";
import { createLogger } from "../../src/logger.js";
import type { Message } from "../../src/protocol/index.js";
import { postFile } from "../support/files.js";
import { ok, startServer, type TestServer } from "../support/harness.js";
import { clientId, group, person, send } from "../support/rooms.js";

const KEY = "export-test-service-key-0123456789abcdef";
const FILES = 24;

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

describe("the export of a user with many files", () => {
  let server: TestServer;
  let userId: string;
  const expected = new Map<string, Buffer>();
  const sent: Message[] = [];
  let roomIds: string[] = [];
  before(async () => {
    server = await startServer({ env: { SERVICE_API_KEY: KEY } });
    const ann = await person(server);
    const bob = await person(server);
    userId = ann.id;
    const rooms = [await group(ann, [bob], "First"), await group(ann, [], "Second")];
    roomIds = rooms.map((r) => r.id);
    // uploaded through the server API (its own limits), eight files to a message
    const fileIds: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const bytes = Buffer.alloc(1000 + i, i);
      const up = await postFile(server.url, `Bearer ${KEY}`, bytes, {
        name: `part ${i}.bin`,
        path: `/api/server/users/${ann.id}/files`,
      });
      assert.equal(up.status, 201);
      fileIds.push(up.file!.id);
      expected.set(`files/${up.file!.id}-part ${i}.bin`, bytes);
    }
    for (let i = 0; i < FILES; i += 8) {
      const { message } = await ok(ann.socket, "message:send", {
        roomId: rooms[i % 2]!.id,
        body: `files ${i}`,
        clientId: clientId(),
        fileIds: fileIds.slice(i, i + 8),
      });
      sent.push(message);
    }
    sent.push(await send(ann.socket, rooms[1]!.id, "no files"));
    // neither someone else's message nor a deleted one is exported
    await send(bob.socket, rooms[0]!.id, "bob's own");
    const gone = await send(ann.socket, rooms[0]!.id, "deleted later");
    await ok(ann.socket, "message:delete", { messageId: gone.id });
  });
  after(() => server?.close());

  const check = async (zip: Buffer) => {
    const entries = await unzip(zip);
    assert.deepEqual([...entries.keys()].sort(), ["messages.json", ...expected.keys()].sort());
    for (const [name, bytes] of expected) assert.deepEqual(entries.get(name), bytes, name);
    const json = JSON.parse(entries.get("messages.json")!.toString("utf8")) as {
      userId: string;
      rooms: unknown[];
      messages: Message[];
    };
    assert.equal(json.userId, userId);
    assert.deepEqual(json.rooms, [
      { id: roomIds[0], type: "group", name: "First" },
      { id: roomIds[1], type: "group", name: "Second" },
    ]);
    assert.deepEqual(
      json.messages.map((m) => [m.id, m.body, m.files.length]),
      sent.map((m) => [m.id, m.body, m.files.length]),
    );
  };

  test("the server API's ZIP holds exactly messages.json and every file, byte for byte", async () => {
    const answer = await fetch(`${server.url}/api/server/users/${userId}/export`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assert.equal(answer.status, 200);
    await check(Buffer.from(await answer.arrayBuffer()));
  });

  test("the files are read one at a time", async () => {
    const config = server.config.files.store;
    assert.equal(config.kind, "disk");
    const disk = new DiskFileStore(config.kind === "disk" ? config.dir : "");
    let open = 0;
    let most = 0;
    let reads = 0;
    const counted: Pick<FileStore, "get"> = {
      async get(key) {
        const read = await disk.get(key);
        if (read) {
          reads++;
          most = Math.max(most, ++open);
          read.body.once("close", () => open--);
        }
        return read;
      },
    };
    const http = createServer((_req, res) => {
      void sendUserExport(res, userId, {
        store: server.app.store,
        files: counted,
        logger: createLogger("silent"),
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/`);
      await check(Buffer.from(await answer.arrayBuffer()));
      assert.equal(reads, FILES);
      assert.equal(most, 1, "never two file reads open at once");
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await disk.close();
    }
  });
});
