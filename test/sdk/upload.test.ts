/**
 * The SDK's `uploadFile` in Node (fetch with a streamed body) against a real server: progress
 * from nothing to the whole body, the file attached with `send`, an aborted upload that leaves
 * nothing behind, and the server's refusals as typed errors.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ChatAuthError,
  ChatClient,
  ChatError,
  type ChatFile,
  MemoryStorage,
  type Message,
  type UploadProgress,
} from "../../src/sdk/index.js";
import { ok, startServer, type TestServer, until } from "../support/harness.js";
import { sdkClient } from "../support/sdk.js";

/** Bytes of the multipart framing around a file part named `name` (the SDK's 32-character boundary). */
function framing(name: string): number {
  const boundary = "x".repeat(32);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  return Buffer.byteLength(head) + Buffer.byteLength(tail);
}

function spoolOf(server: TestServer): string[] {
  const store = server.config.files.store;
  assert.equal(store.kind, "disk");
  const spool = join(store.kind === "disk" ? store.dir : "", ".incoming");
  return existsSync(spool) ? readdirSync(spool) : [];
}

describe("uploadFile with the default limits", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.close());

  test("reports progress from 0 to the whole body, and send attaches the file for everyone", async (t) => {
    const alice = await server.addUser("Alice Upload");
    const bob = await server.addUser("Bob Upload");
    const a = await sdkClient(t, server, alice);
    const b = await sdkClient(t, server, bob);
    const { room } = await a.request("room:direct", { userId: bob.id });
    const arrived: Message[] = [];
    b.on("message:new", (m) => arrived.push(m));

    const bytes = new Uint8Array(1024 * 1024 + 3).map((_, i) => i % 251);
    const progress: UploadProgress[] = [];
    const file = await a.uploadFile(new File([bytes], "roster.bin"), { onProgress: (p) => progress.push(p) });

    assert.deepEqual(
      { ...file, id: "", url: file.url.split("?")[0] },
      {
        id: "",
        name: "roster.bin",
        size: bytes.length,
        type: "application/octet-stream",
        width: null,
        height: null,
        url: `/api/files/${file.id}`,
        thumbnailUrl: null,
      },
    );
    const total = bytes.length + framing("roster.bin");
    assert.deepEqual(progress[0], { loaded: 0, total }, "the first report is before any byte");
    assert.deepEqual(progress.at(-1), { loaded: total, total }, "the last one is the whole body");
    assert.ok(progress.length >= 4, `a 1 MiB file is read in several chunks (${progress.length} reports)`);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i]!.loaded > progress[i - 1]!.loaded, "every report is further on");
      assert.equal(progress[i]!.total, total);
    }

    const sent = await a.send(room.id, "", { fileIds: [file.id] });
    assert.equal(sent.body, "");
    assert.deepEqual(sent.files, [file]);
    await until(() => arrived.length === 1, 5000, "Bob to get the message");
    // Bob's copy carries a link signed for Bob: the same file, another signature
    const unsigned = (f: ChatFile) => ({ ...f, url: f.url.split("?")[0] });
    assert.deepEqual(
      arrived.map((m) => [m.id, m.files.map(unsigned)]),
      [[sent.id, [unsigned(file)]]],
    );
    assert.notEqual(arrived[0]!.files[0]!.url, file.url, "each reader gets a link of their own");
    assert.equal((await server.app.store.file(file.id))?.messageId, sent.id);
  });

  test("a plain Blob goes up under the name given, or as 'file'", async (t) => {
    const a = await sdkClient(t, server, await server.addUser("Carol Upload"));
    const blob = new Blob(["Früh: Anna\n"], { type: "text/plain" });
    assert.equal((await a.uploadFile(blob, { name: "plan.txt" })).name, "plan.txt");
    const unnamed = await a.uploadFile(blob);
    assert.equal(unnamed.name, "file");
    assert.equal(unnamed.type, "text/plain");
  });

  test("aborting an upload halfway rejects with AbortError and nothing of it is kept", async (t) => {
    const dave = await server.addUser("Dave Upload");
    const a = await sdkClient(t, server, dave);
    const controller = new AbortController();
    const big = new Uint8Array(8 * 1024 * 1024);
    let abortedAt = 0;
    const upload = a.uploadFile(new File([big], "big.bin"), {
      signal: controller.signal,
      onProgress: ({ loaded }) => {
        if (loaded > 1024 * 1024 && abortedAt === 0) {
          abortedAt = loaded;
          controller.abort();
        }
      },
    });
    await assert.rejects(
      upload,
      (error: unknown) => error instanceof DOMException && error.name === "AbortError",
    );
    assert.ok(abortedAt > 1024 * 1024 && abortedAt < big.length, "it was cut off partway");
    // the server notices the cut-off body and removes what it had spooled
    await until(() => spoolOf(server).length === 0, 5000, "the spool folder to be empty");
    assert.equal(await server.app.store.fileBytesOf(dave.id), 0, "no file is recorded for Dave");

    const small = await a.uploadFile(new File(["after"], "after.txt"));
    assert.equal(await server.app.store.fileBytesOf(dave.id), 5, "only the later upload counts");
    assert.equal(small.size, 5);
  });

  test("an upload whose signal is already aborted never starts", async (t) => {
    const a = await sdkClient(t, server, await server.addUser("Erin Upload"));
    await assert.rejects(
      a.uploadFile(new File(["x"], "x.txt"), { signal: AbortSignal.abort() }),
      (error: unknown) => error instanceof DOMException && error.name === "AbortError",
    );
  });

  test("an expired token is swapped for a fresh one and the upload goes through", async (t) => {
    const frank = await server.addUser("Frank Upload");
    const reasons: string[] = [];
    const a = await sdkClient(t, server, frank);
    // a second client whose first token is already expired when the upload starts
    const client = new ChatClient({
      url: server.url,
      storage: new MemoryStorage(),
      getToken: async (reason) => {
        reasons.push(reason);
        // the first one was issued an hour ago and lived a minute
        const issuedAt = Math.floor(Date.now() / 1000) - 3600;
        return reason === "refresh" ? server.token(frank.id) : server.app.tokens.sign(frank.id, 60, issuedAt);
      },
      socketOptions: { autoConnect: false },
    });
    t.after(() => client.close());
    const file = await client.uploadFile(new File(["hello"], "hello.txt"));
    assert.deepEqual(reasons, ["connect", "refresh"]);
    assert.equal(file.size, 5);
    assert.equal(a.status, "online");
  });

  test("without any token the upload is refused with ChatAuthError AUTH_REQUIRED", async (t) => {
    const client = new ChatClient({
      url: server.url,
      storage: new MemoryStorage(),
      socketOptions: { autoConnect: false },
    });
    t.after(() => client.close());
    await assert.rejects(
      client.uploadFile(new File(["x"], "x.txt")),
      (error: unknown) => error instanceof ChatAuthError && error.code === "AUTH_REQUIRED",
    );
  });
});

describe("uploadFile with small limits", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { FILES_MAX_BYTES: "65536", FILES_QUOTA_BYTES: "100000" } });
  });
  after(() => server?.close());

  test("a file over FILES_MAX_BYTES is ChatError PAYLOAD_TOO_LARGE with the limit", async (t) => {
    const user = await server.addUser("Gina Limits");
    const a = await sdkClient(t, server, user);
    const error = await a.uploadFile(new File([new Uint8Array(300 * 1024)], "big.bin")).then(
      () => assert.fail("the upload should be refused"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChatError, String(error));
    assert.equal(error.code, "PAYLOAD_TOO_LARGE");
    assert.deepEqual(error.details, { maxBytes: 65536 });
    assert.equal(error.message, "A file can be at most 65536 bytes.");
    await until(() => spoolOf(server).length === 0, 5000, "the spool folder to be empty");
    assert.equal(await server.app.store.fileBytesOf(user.id), 0);
  });

  test("a file past the user's quota is ChatError QUOTA_EXCEEDED", async (t) => {
    const user = await server.addUser("Hank Limits");
    const a = await sdkClient(t, server, user);
    const first = await a.uploadFile(new File([new Uint8Array(60_000)], "one.bin"));
    assert.equal(first.size, 60_000);
    const error = await a.uploadFile(new File([new Uint8Array(60_000)], "two.bin")).then(
      () => assert.fail("the upload should be refused"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChatError, String(error));
    assert.equal(error.code, "QUOTA_EXCEEDED");
    assert.deepEqual(error.details, { usedBytes: 60_000, quotaBytes: 100_000 });
    assert.equal(await server.app.store.fileBytesOf(user.id), 60_000);
  });
});

test("a message with files written while the server is down is sent with them after a reload", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "twc-upload-outbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sqlitePath = join(dir, "chat.db");
  const first = await startServer({ sqlitePath });
  const alice = await first.addUser("Alice Outbox");
  const bob = await first.addUser("Bob Outbox");
  const storage = new MemoryStorage(); // the page's localStorage: it outlives the page
  const page1 = await sdkClient(t, first, alice, { storage });
  const { room } = await page1.request("room:direct", { userId: bob.id });
  const file = await page1.uploadFile(new File(["Mo: Anna\n"], "monday.txt"));

  await first.close();
  await until(() => page1.status === "offline", 5000, "the client to notice");
  void page1.send(room.id, "", { fileIds: [file.id] }).catch(() => null);
  assert.deepEqual(
    page1.state.pending(room.id).map((p) => p.fileIds),
    [[file.id]],
  );
  page1.close(); // the page is reloaded before the server is back

  const second = await startServer({ sqlitePath, env: { CHAT_PORT: String(first.port) } });
  t.after(() => second.close());
  const page2 = new ChatClient({
    url: second.url,
    getToken: () => second.token(alice.id),
    storage,
    socketOptions: { transports: ["websocket"] },
  });
  t.after(() => page2.close());
  await page2.ready();
  await until(() => page2.state.pendingCount() === 0, 5000, "the outbox to drain");
  const bobSocket = await second.connect(bob);
  const { messages } = await ok(bobSocket, "message:history", { roomId: room.id });
  assert.deepEqual(
    messages.map((m) => [m.body, m.files.map((f) => f.id)]),
    [["", [file.id]]],
  );
});
