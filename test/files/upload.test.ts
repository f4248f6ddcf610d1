/**
 * `POST /api/files` with real HTTP uploads into a real server: a small file, one past 25 MiB
 * (413, nothing kept), a body cut off halfway, a wrong part name, zero bytes, unicode and
 * path-traversal names, a PNG renamed `.exe`, the quota, and requests that are not uploads.
 * Bodies are streamed from generators, so a large upload is never built whole in the test either.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FileBody, HttpErrorBody } from "../../src/protocol/index.js";
import { startServer, type TestServer, until } from "../support/harness.js";
import { person } from "../support/rooms.js";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const BOUNDARY = "----twc-test-boundary-7f3a";

interface Part {
  field: string;
  /** a file part when set; else a plain field */
  filename?: string;
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>;
}

async function* multipart(parts: Part[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    const disposition =
      part.filename === undefined
        ? `form-data; name="${part.field}"`
        : `form-data; name="${part.field}"; filename="${part.filename}"`;
    yield Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    for await (const chunk of part.chunks) yield chunk;
    yield Buffer.from("\r\n");
  }
  yield Buffer.from(`--${BOUNDARY}--\r\n`);
}

function* repeated(total: number, chunk = 64 * 1024): Generator<Buffer> {
  const block = Buffer.alloc(chunk, 0x61);
  for (let sent = 0; sent < total; sent += chunk) yield block.subarray(0, Math.min(chunk, total - sent));
}

interface Answer {
  status: number;
  body: unknown;
}

/**
 * POSTs `body` (chunked) and resolves with the answer. The server may stop reading a refused
 * upload: a write error after the answer arrived is expected then, not a failure.
 */
function post(
  url: string,
  token: string | null,
  body: AsyncIterable<Buffer>,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": contentType };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = httpRequest(`${url}/api/files`, { method: "POST", headers });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
      );
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      try {
        for await (const chunk of body) {
          if (answered || req.destroyed) return;
          if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
        }
        req.end();
      } catch (error) {
        req.destroy(error as Error);
      }
    })();
  });
}

const fileOf = (answer: Answer) => (answer.body as FileBody).file;
const codeOf = (answer: Answer) => (answer.body as HttpErrorBody).error.code;

describe("POST /api/files", () => {
  let server: TestServer;
  let filesDir: string;
  before(async () => {
    server = await startServer();
    const store = server.config.files.store;
    assert.equal(store.kind, "disk");
    filesDir = store.kind === "disk" ? store.dir : "";
  });
  after(() => server?.close());

  const upload = async (parts: Part[]) => {
    const { user } = await person(server);
    return { user, answer: await post(server.url, await server.token(user.id), multipart(parts)) };
  };
  /** Nothing half-written waits in the spool folder. */
  const spoolIsEmpty = () => {
    const spool = join(filesDir, ".incoming");
    assert.deepEqual(existsSync(spool) ? readdirSync(spool) : [], []);
  };

  test("a small file is stored as sent and answered 201 with its record", async () => {
    const bytes = Buffer.from("Dienstplan KW 12\nAnna: Früh\n");
    const { user, answer } = await upload([{ field: "file", filename: "plan.txt", chunks: [bytes] }]);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const file = fileOf(answer);
    assert.deepEqual(
      { ...file, id: undefined, url: undefined },
      {
        id: undefined,
        name: "plan.txt",
        size: bytes.length,
        type: "text/plain",
        width: null,
        height: null,
        url: undefined,
        thumbnailUrl: null,
      },
    );
    // a download link signed for the uploader (test/files/downloads.test.ts checks it works)
    const link = new URL(file.url, server.url);
    assert.equal(link.pathname, `/api/files/${file.id}`);
    assert.deepEqual([...link.searchParams.keys()], ["u", "e", "s"]);
    assert.equal(link.searchParams.get("u"), user.id);
    const record = await server.app.store.file(file.id);
    assert.equal(record?.uploaderId, user.id);
    assert.equal(record?.messageId, null);
    assert.ok(
      readFileSync(join(filesDir, record!.storeKey)).equals(bytes),
      "the bytes on disk are the upload",
    );
    assert.equal(await server.app.store.fileBytesOf(user.id), bytes.length);
    spoolIsEmpty();
  });

  test("a file past 25 MiB is 413 PAYLOAD_TOO_LARGE and nothing of it is kept", async () => {
    const { user, answer } = await upload([
      { field: "file", filename: "big.bin", chunks: repeated(25 * 1024 * 1024 + 1) },
    ]);
    assert.equal(answer.status, 413);
    assert.equal(codeOf(answer), "PAYLOAD_TOO_LARGE");
    assert.equal(await server.app.store.fileBytesOf(user.id), 0);
    await until(() => {
      const spool = join(filesDir, ".incoming");
      return !existsSync(spool) || readdirSync(spool).length === 0;
    });
    spoolIsEmpty();
  });

  test("an upload cut off halfway keeps nothing", async () => {
    const { user } = await person(server);
    const token = await server.token(user.id);
    const spool = join(filesDir, ".incoming");
    const req = httpRequest(`${server.url}/api/files`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
      },
    });
    req.on("error", () => {}); // the test cuts it off itself
    const head = multipart([{ field: "file", filename: "half.bin", chunks: repeated(512 * 1024) }]);
    let sent = 0;
    for await (const chunk of head) {
      req.write(chunk);
      sent += chunk.length;
      if (sent > 256 * 1024) break;
    }
    // the server has begun spooling this upload before the client goes away
    await until(() => existsSync(spool) && readdirSync(spool).length === 1);
    req.destroy();
    await until(() => readdirSync(spool).length === 0);
    assert.equal(await server.app.store.fileBytesOf(user.id), 0);
  });

  test("a body without a part named file is 400, and other file parts are not kept", async () => {
    const { user, answer } = await upload([
      { field: "attachment", filename: "plan.txt", chunks: [Buffer.from("hello")] },
      { field: "note", chunks: [Buffer.from("not a file")] },
    ]);
    assert.equal(answer.status, 400);
    assert.equal(codeOf(answer), "BAD_REQUEST");
    assert.equal(await server.app.store.fileBytesOf(user.id), 0);
    spoolIsEmpty();
  });

  test("a file of zero bytes is 400 and not kept", async () => {
    const { user, answer } = await upload([{ field: "file", filename: "empty.txt", chunks: [] }]);
    assert.equal(answer.status, 400);
    assert.equal(codeOf(answer), "BAD_REQUEST");
    assert.equal(await server.app.store.fileBytesOf(user.id), 0);
  });

  test("names keep their unicode but lose folders and direction tricks", async () => {
    const cases: [string, string][] = [
      ["Über Café 📄.txt", "Über Café 📄.txt"],
      ["../../etc/pässwörd", "pässwörd"],
      ["..\\..\\windows\\system.ini", "system.ini"],
      ["\u202Egpj.exe", "gpj.exe"],
      ["..", "file"],
    ];
    for (const [sent, kept] of cases) {
      const { answer } = await upload([{ field: "file", filename: sent, chunks: [Buffer.from("x")] }]);
      assert.equal(answer.status, 201, sent);
      assert.equal(fileOf(answer).name, kept, sent);
    }
    // nothing was written outside the files folder
    assert.equal(existsSync(join(filesDir, "..", "etc")), false);
  });

  test("a PNG renamed .exe is typed image/png from its bytes, and an .exe named .png is not an image", async () => {
    const png = await upload([{ field: "file", filename: "photo.exe", chunks: [PNG] }]);
    assert.equal(png.answer.status, 201);
    assert.deepEqual([fileOf(png.answer).name, fileOf(png.answer).type], ["photo.exe", "image/png"]);
    const exe = await upload([
      { field: "file", filename: "photo.png", chunks: [Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00])] },
    ]);
    assert.equal(exe.answer.status, 201);
    // typed from its first bytes ("MZ"), whatever its name says
    assert.deepEqual(
      [fileOf(exe.answer).name, fileOf(exe.answer).type],
      ["photo.png", "application/x-msdownload"],
    );
  });

  test("an upload without a token is 401, and a JSON body is 400", async () => {
    const none = await post(
      server.url,
      null,
      multipart([{ field: "file", filename: "a.txt", chunks: [Buffer.from("a")] }]),
    );
    assert.equal(none.status, 401);
    assert.equal(codeOf(none), "AUTH_REQUIRED");
    const { user } = await person(server);
    const json = await post(
      server.url,
      await server.token(user.id),
      (async function* () {
        yield Buffer.from("{}");
      })(),
      "application/json",
    );
    assert.equal(json.status, 400);
    assert.equal(codeOf(json), "BAD_REQUEST");
  });
});

describe("POST /api/files and the quota", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { FILES_QUOTA_BYTES: "1000" } });
  });
  after(() => server?.close());

  test("an upload past the user's quota is 413 QUOTA_EXCEEDED; another user still has theirs", async () => {
    const ann = await person(server);
    const token = await server.token(ann.id);
    const send = (size: number) =>
      post(server.url, token, multipart([{ field: "file", filename: "a.bin", chunks: repeated(size, 100) }]));
    assert.equal((await send(600)).status, 201);
    const over = await send(401);
    assert.equal(over.status, 413);
    assert.equal(codeOf(over), "QUOTA_EXCEEDED");
    assert.deepEqual((over.body as HttpErrorBody).error.details, { usedBytes: 600, quotaBytes: 1000 });
    assert.equal(await server.app.store.fileBytesOf(ann.id), 600);
    assert.equal((await send(400)).status, 201, "up to the quota exactly is fine");
    const bob = await person(server);
    const bobs = await post(
      server.url,
      await server.token(bob.id),
      multipart([{ field: "file", filename: "b.bin", chunks: repeated(900, 100) }]),
    );
    assert.equal(bobs.status, 201);
  });
});
