/**
 * Downloads through signed links, on a real server with real uploads, for both file stores (the
 * disk, and S3 against s3rver on loopback); with TEST_CHAT_STORE=postgres on PostgreSQL too, where
 * live messages come through the commit feed. Who may download (member, uploader, non-member,
 * removed member), links that expired or were altered in any part, ranges, HEAD, the headers that
 * keep an HTML or SVG file from ever running, file names in Content-Disposition, thumbnails, and
 * fresh links for each reader in every answer and broadcast that carries a message.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { get as httpGet, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createFileStore } from "../../src/files/create-store.js";
import { thumbnailKey } from "../../src/files/keys.js";
import { FILE_LINK_SECRET_NAME, FileLinks } from "../../src/files/links.js";
import type { FileStore } from "../../src/files/store.js";
import type { ChatFile, Message } from "../../src/protocol/index.js";
import { download, linkUser, uploadFile, withParam } from "../support/files.js";
import { ok, startServer, TestClock, type TestServer, until, waitFor } from "../support/harness.js";
import { memoryAfterGc } from "../support/heap.js";
import { clientId, group, type Person, person } from "../support/rooms.js";
import { startS3, type TestS3 } from "../support/s3.js";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const TTL_S = 60;
const CSP = "default-src 'none'; sandbox";

for (const storeKind of ["disk", "s3"] as const) {
  describe(`downloads from the ${storeKind} store`, () => {
    const clock = new TestClock();
    let s3: TestS3 | null = null;
    let server: TestServer;
    /** the server's own file store, opened a second time: for thumbnails only the server makes */
    let files: FileStore;
    let notFoundBody: string;

    before(async () => {
      s3 = storeKind === "s3" ? await startS3() : null;
      server = await startServer({
        env: {
          FILES_URL_TTL_S: String(TTL_S),
          // every test downloads many times; the allowance itself is not what is tested here
          RATE_LIMIT_READS: "100000",
          RATE_LIMIT_SEARCHES: "100000",
          ...s3?.env,
        },
        app: { now: clock.now },
      });
      files = await createFileStore(server.config.files.store);
      notFoundBody = (
        await download(server.url, "/api/files/987654321?u=1&e=99999999999&s=x")
      ).body.toString();
    });
    after(async () => {
      await files?.close();
      await server?.close();
      await s3?.close();
    });

    const tokenOf = (p: Person) => server.token(p.id);

    /** Ann (owner) and Bob in a group; Carol in none of it. */
    async function team() {
      const ann = await person(server, "Ann");
      const bob = await person(server, "Bob");
      const carol = await person(server, "Carol");
      const room = await group(ann, [bob]);
      return { ann, bob, carol, room };
    }

    /** Ann uploads `bytes` as `name` and sends it; Bob's copy of the message arrives live. */
    async function share(ann: Person, bob: Person, roomId: string, name: string, bytes: Buffer) {
      const uploaded = await uploadFile(server.url, await tokenOf(ann), name, bytes);
      const arrival = waitFor(bob.socket, "message:new", (m) => m.roomId === roomId);
      const { message } = await ok(ann.socket, "message:send", {
        roomId,
        body: "",
        clientId: clientId(),
        fileIds: [uploaded.id],
      });
      const live = await arrival;
      return { uploaded, mine: message.files[0]!, bobs: live.files[0]!, message: live };
    }

    function assertNotFound(answer: { status: number; headers: Headers; body: Buffer }, what: string) {
      assert.equal(answer.status, 404, what);
      assert.equal(answer.body.toString(), notFoundBody, `${what}: the same answer as an unknown file`);
      assert.equal(answer.headers.get("x-content-type-options"), "nosniff", what);
    }

    test("a member downloads the bytes as uploaded, typed from its bytes, as an attachment", async () => {
      const { ann, bob, room } = await team();
      const bytes = Buffer.from("Dienstplan KW 12\nAnna: Früh\n");
      const { bobs } = await share(ann, bob, room.id, "plan.txt", bytes);
      assert.equal(linkUser(bobs.url), bob.id);
      const got = await download(server.url, bobs.url);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(bytes));
      assert.equal(got.headers.get("content-type"), "text/plain");
      assert.equal(got.headers.get("content-length"), String(bytes.length));
      assert.equal(got.headers.get("x-content-type-options"), "nosniff");
      assert.equal(got.headers.get("content-security-policy"), CSP);
      assert.equal(got.headers.get("accept-ranges"), "bytes");
      assert.equal(
        got.headers.get("content-disposition"),
        `attachment; filename="plan.txt"; filename*=UTF-8''plan.txt`,
      );
      const cache = /^private, max-age=(\d+)$/.exec(got.headers.get("cache-control") ?? "");
      assert.ok(cache, `cache-control: ${got.headers.get("cache-control")}`);
      assert.ok(Number(cache[1]) <= TTL_S && Number(cache[1]) > 0, `max-age ${cache[1]}`);
    });

    test("the uploader downloads with the upload's own link, before sending and after", async () => {
      const { ann, bob, room } = await team();
      const bytes = Buffer.from("not sent yet");
      const uploaded = await uploadFile(server.url, await tokenOf(ann), "draft.txt", bytes);
      assert.equal(linkUser(uploaded.url), ann.id);
      const before = await download(server.url, uploaded.url);
      assert.equal(before.status, 200);
      assert.ok(before.body.equals(bytes));
      // Bob can't see an upload nobody sent: a link signed for him still gets nothing
      assertNotFound(await download(server.url, await signedFor(bob.id, uploaded)), "Bob, before it is sent");
      await ok(ann.socket, "message:send", {
        roomId: room.id,
        body: "",
        clientId: clientId(),
        fileIds: [uploaded.id],
      });
      assert.equal((await download(server.url, uploaded.url)).status, 200);
    });

    /** A link for `userId` signed exactly as the server signs, with the server's own secret. */
    async function signedFor(userId: string, file: ChatFile): Promise<string> {
      const secret = await server.app.store.serverSecret(FILE_LINK_SECRET_NAME);
      return new FileLinks(secret, TTL_S, clock.now).file(file, userId).url;
    }

    test("a correctly signed link of someone who is not in the room is 404", async () => {
      const { ann, bob, carol, room } = await team();
      const { bobs } = await share(ann, bob, room.id, "roster.txt", Buffer.from("roster"));
      assertNotFound(await download(server.url, await signedFor(carol.id, bobs)), "Carol");
      assert.equal((await download(server.url, await signedFor(bob.id, bobs))).status, 200);
    });

    test("a removed member loses access at once, with a link that worked a moment before", async () => {
      const { ann, bob, room } = await team();
      const { bobs } = await share(ann, bob, room.id, "payslips.txt", Buffer.from("secret"));
      assert.equal((await download(server.url, bobs.url)).status, 200);
      await ok(ann.socket, "room:removeMember", { roomId: room.id, userId: bob.id });
      assertNotFound(await download(server.url, bobs.url), "Bob after his removal");
    });

    test("a link expires after FILES_URL_TTL_S; a message read again carries a fresh one", async () => {
      const { ann, bob, room } = await team();
      const { bobs } = await share(ann, bob, room.id, "shift.txt", Buffer.from("early"));
      const expiry = Number(new URL(bobs.url, server.url).searchParams.get("e"));
      const lifetimeS = expiry - clock.now() / 1000;
      assert.ok(lifetimeS <= TTL_S && lifetimeS > TTL_S - 7, `the link lives ${lifetimeS} s`);
      assert.equal((await download(server.url, bobs.url)).status, 200);
      clock.advance((TTL_S + 1) * 1000);
      assertNotFound(await download(server.url, bobs.url), "the expired link");
      const { messages } = await ok(bob.socket, "message:history", { roomId: room.id });
      const fresh = messages.at(-1)!.files[0]!;
      assert.notEqual(fresh.url, bobs.url);
      assert.equal((await download(server.url, fresh.url)).status, 200);
    });

    test("a link altered in its file, user, expiry or signature is 404, the same as an unknown file", async () => {
      const { ann, bob, room } = await team();
      const { bobs } = await share(ann, bob, room.id, "one.txt", Buffer.from("one"));
      const other = (await share(ann, bob, room.id, "two.txt", Buffer.from("two"))).bobs;
      const query = new URL(bobs.url, server.url).search;
      const s = new URL(bobs.url, server.url).searchParams.get("s")!;
      const flipped = (s[0] === "A" ? "B" : "A") + s.slice(1);
      const expiry = Number(new URL(bobs.url, server.url).searchParams.get("e"));
      const altered: Record<string, string> = {
        "another file's id (one Bob may see)": `/api/files/${other.id}${query}`,
        "an id that is no file": `/api/files/987654321${query}`,
        "an id that is not a number": `/api/files/..%2F1${query}`,
        "the uploader as the user": withParam(bobs.url, "u", ann.id),
        "a later expiry": withParam(bobs.url, "e", String(expiry + 60)),
        "an earlier expiry": withParam(bobs.url, "e", String(expiry - 1)),
        "one character of the signature": withParam(bobs.url, "s", flipped),
        "a shortened signature": withParam(bobs.url, "s", s.slice(0, -1)),
        "no signature": bobs.url.replace(/&s=[^&]*/, ""),
        "no query": `/api/files/${bobs.id}`,
      };
      for (const [what, link] of Object.entries(altered))
        assertNotFound(await download(server.url, link), what);
      assert.equal((await download(server.url, bobs.url)).status, 200, "the link as it was given");
    });

    test("a range gets 206 with just those bytes; one past the end 416; several ranges the whole file", async () => {
      const { ann, bob, room } = await team();
      const bytes = Buffer.from("0123456789abcdef");
      const { bobs } = await share(ann, bob, room.id, "digits.txt", bytes);
      const part = async (range: string) => download(server.url, bobs.url, { headers: { range } });
      const cases: [string, number, string][] = [
        ["bytes=2-5", 2, 5],
        ["bytes=10-", 10, 15],
        ["bytes=-3", 13, 15],
        ["bytes=12-99", 12, 15],
      ].map(([r, a, b]) => [r as string, a as number, `bytes ${a}-${b}/16`]);
      for (const [range, start, contentRange] of cases) {
        const got = await part(range);
        assert.equal(got.status, 206, range);
        assert.equal(got.headers.get("content-range"), contentRange, range);
        const end = Number(contentRange.split(/[-/]/)[1]);
        assert.equal(got.body.toString(), bytes.subarray(start, end + 1).toString(), range);
        assert.equal(got.headers.get("content-length"), String(end - start + 1), range);
      }
      for (const range of ["bytes=16-", "bytes=99-100", "bytes=-0"]) {
        const got = await part(range);
        assert.equal(got.status, 416, range);
        assert.equal(got.headers.get("content-range"), "bytes */16", range);
        assert.equal(got.body.length, 0, range);
      }
      for (const range of ["bytes=0-1,4-5", "items=0-1", "bytes=5-2"]) {
        const got = await part(range);
        assert.equal(got.status, 200, range);
        assert.ok(got.body.equals(bytes), range);
      }
      const head = await download(server.url, bobs.url, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), "16");
      assert.equal(head.headers.get("content-type"), "text/plain");
      assert.equal(head.body.length, 0);
      const headPart = await download(server.url, bobs.url, {
        method: "HEAD",
        headers: { range: "bytes=4-7" },
      });
      assert.equal(headPart.status, 206);
      assert.equal(headPart.headers.get("content-range"), "bytes 4-7/16");
    });

    test("a 20 MiB download streams from the store: the server's memory does not grow with it", async (t) => {
      const { ann, bob, room } = await team();
      const size = 20 * 1024 * 1024;
      const bytes = Buffer.alloc(size, 0x61);
      const { bobs } = await share(ann, bob, room.id, "big.txt", bytes);
      const baseline = memoryAfterGc();
      // read half, then stop reading: a server that streams stops reading the store too
      const res = await new Promise<IncomingMessage>((resolve, reject) =>
        httpGet(new URL(bobs.url, server.url), { agent: false }, resolve).on("error", reject),
      );
      assert.equal(res.statusCode, 200);
      let received = 0;
      let halfway: () => void = () => {};
      const half = new Promise<void>((resolve) => {
        halfway = resolve;
      });
      const ended = new Promise<void>((resolve) => res.on("end", resolve));
      res.on("data", (chunk: Buffer) => {
        const before = received;
        received += chunk.length;
        if (before < size / 2 && received >= size / 2) {
          res.pause();
          halfway();
        }
      });
      await half;
      const grown = memoryAfterGc() - baseline;
      res.resume();
      await ended;
      assert.equal(received, size);
      t.diagnostic(`memory growth halfway through: ${(grown / 1048576).toFixed(2)} MiB`);
      assert.ok(grown < 6 * 1024 * 1024, `memory grew by ${(grown / 1048576).toFixed(1)} MiB halfway`);
    });

    test("a PNG renamed .exe is served inline as image/png", async () => {
      const { ann, bob, room } = await team();
      const { bobs } = await share(ann, bob, room.id, "holiday.exe", PNG);
      assert.equal(bobs.type, "image/png");
      const got = await download(server.url, bobs.url);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(PNG));
      assert.equal(got.headers.get("content-type"), "image/png");
      assert.equal(
        got.headers.get("content-disposition"),
        `inline; filename="holiday.exe"; filename*=UTF-8''holiday.exe`,
      );
      assert.equal(got.headers.get("x-content-type-options"), "nosniff");
    });

    test("an HTML file and an SVG with a script are attachments with nosniff and a sandbox, never pages", async () => {
      const { ann, bob, room } = await team();
      const pages: [string, string][] = [
        ["invoice.html", "<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"],
        [
          "logo.svg",
          '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ],
      ];
      for (const [name, text] of pages) {
        const { bobs } = await share(ann, bob, room.id, name, Buffer.from(text));
        const got = await download(server.url, bobs.url);
        assert.equal(got.status, 200, name);
        const type = got.headers.get("content-type") ?? "";
        assert.equal(type, bobs.type, name);
        assert.ok(!/html|svg/.test(type), `${name} is served as ${type}`);
        assert.match(got.headers.get("content-disposition") ?? "", /^attachment; /, name);
        assert.equal(got.headers.get("x-content-type-options"), "nosniff", name);
        assert.equal(got.headers.get("content-security-policy"), CSP, name);
      }
    });

    test("file names in Content-Disposition: unicode encoded, folders gone, ; and % made harmless", async () => {
      const { ann, bob, room } = await team();
      const names: [string, string][] = [
        [
          "Dienstplan März 🗓.txt",
          `attachment; filename="Dienstplan M_rz _.txt"; filename*=UTF-8''Dienstplan%20M%C3%A4rz%20%F0%9F%97%93.txt`,
        ],
        ["../../etc/passwd", `attachment; filename="passwd"; filename*=UTF-8''passwd`],
        [
          "Bericht Q1; 100%.txt",
          `attachment; filename="Bericht Q1; 100_.txt"; filename*=UTF-8''Bericht%20Q1%3B%20100%25.txt`,
        ],
        [
          "it's (final).txt",
          `attachment; filename="it's (final).txt"; filename*=UTF-8''it%27s%20%28final%29.txt`,
        ],
      ];
      for (const [name, disposition] of names) {
        const { bobs } = await share(ann, bob, room.id, name, Buffer.from("x"));
        const got = await download(server.url, bobs.url);
        assert.equal(got.headers.get("content-disposition"), disposition, name);
      }
    });

    test("a thumbnail is served inline with the type of its bytes; a file without one has none", async () => {
      const { ann, bob, room } = await team();
      const storeKey = `t/${randomUUID()}`;
      const record = await server.app.store.createFile(
        {
          uploaderId: ann.id,
          name: "photo.png",
          size: PNG.length,
          type: "image/png",
          width: 1,
          height: 1,
          hasThumbnail: true,
          storeKey,
          at: new Date(clock.now()).toISOString(),
        },
        server.config.files.quotaBytes,
      );
      await files.put(storeKey, Readable.from([PNG]));
      await files.put(thumbnailKey(storeKey), Readable.from([PNG]));
      const arrival = waitFor(bob.socket, "message:new", (m) => m.roomId === room.id);
      await ok(ann.socket, "message:send", {
        roomId: room.id,
        body: "",
        clientId: clientId(),
        fileIds: [record.id],
      });
      const bobs = (await arrival).files[0]!;
      assert.ok(
        bobs.thumbnailUrl?.startsWith(`/api/files/${record.id}/thumbnail?u=${bob.id}&`),
        bobs.thumbnailUrl ?? "",
      );
      const got = await download(server.url, bobs.thumbnailUrl!);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(PNG));
      assert.equal(got.headers.get("content-type"), "image/png");
      assert.match(got.headers.get("content-disposition") ?? "", /^inline; /);
      assert.equal(got.headers.get("accept-ranges"), "none");
      const head = await download(server.url, bobs.thumbnailUrl!, { method: "HEAD" });
      assert.deepEqual(
        [head.status, head.headers.get("content-type"), head.body.length],
        [200, "image/png", 0],
      );

      const plain = (await share(ann, bob, room.id, "notes.txt", Buffer.from("notes"))).bobs;
      assert.equal(plain.thumbnailUrl, null);
      const query = new URL(plain.url, server.url).search;
      assertNotFound(await download(server.url, `/api/files/${plain.id}/thumbnail${query}`), "no thumbnail");
    });

    test("every answer and broadcast with a message gives each reader fresh links of their own", async () => {
      const { ann, bob, room } = await team();
      const word = `w${randomUUID().slice(0, 8)}`;
      const uploaded = await uploadFile(server.url, await tokenOf(ann), "receipt.png", PNG);
      const arrival = waitFor(bob.socket, "message:new", (m) => m.roomId === room.id);
      const sent = await ok(ann.socket, "message:send", {
        roomId: room.id,
        body: `receipt ${word}`,
        clientId: clientId(),
        fileIds: [uploaded.id],
      });
      const seen: [string, Message][] = [
        ["message:send ack (Ann's)", sent.message],
        ["message:new", await arrival],
      ];
      clock.advance(7000); // past one expiry step: later answers carry later expiries
      const before = await ok(bob.socket, "message:history", { roomId: room.id });
      seen.push(["message:history", before.messages.at(-1)!]);
      seen.push([
        "message:changes",
        (await ok(bob.socket, "message:changes", { roomId: room.id, sinceRev: 0 })).messages.at(-1)!,
      ]);
      let found: Message[] = [];
      await until(async () => {
        found = (await ok(bob.socket, "message:search", { query: word })).messages;
        return found.length === 1;
      });
      seen.push(["message:search", found[0]!]);
      const { rooms } = await ok(bob.socket, "room:list", {});
      seen.push(["room:list lastMessage", rooms.find((r) => r.id === room.id)!.lastMessage!]);
      seen.push([
        "room:get lastMessage",
        (await ok(bob.socket, "room:get", { roomId: room.id })).room.lastMessage!,
      ]);
      const updated = waitFor(bob.socket, "message:updated", (m) => m.id === sent.message.id);
      await ok(ann.socket, "message:edit", { messageId: sent.message.id, body: `receipt ${word}, paid` });
      seen.push(["message:updated", await updated]);
      const renamed = waitFor(
        bob.socket,
        "room:updated",
        (r) => r.id === room.id && r.name === `Receipts ${word}`,
      );
      await ok(ann.socket, "room:update", { roomId: room.id, name: `Receipts ${word}` });
      seen.push(["room:updated lastMessage", (await renamed).lastMessage!]);
      const res = await download(server.url, `/api/rooms/${room.id}/messages`, {
        headers: { authorization: `Bearer ${await tokenOf(bob)}` },
      });
      seen.push([
        "GET /api/rooms/:id/messages",
        (JSON.parse(res.body.toString()) as { messages: Message[] }).messages.at(-1)!,
      ]);
      for (const [where, message] of seen) {
        const file = message.files[0]!;
        assert.equal(file.id, uploaded.id, where);
        const reader = where.includes("Ann") ? ann.id : bob.id;
        assert.equal(linkUser(file.url), reader, where);
        assert.equal(linkUser(file.thumbnailUrl ?? file.url), reader, where);
        const got = await download(server.url, file.url);
        assert.equal(got.status, 200, where);
        assert.ok(got.body.equals(PNG), where);
      }
      // after the clock moved, answers are signed again rather than repeated from before
      assert.notEqual(seen[2]![1].files[0]!.url, seen[1]![1].files[0]!.url);
    });
  });
}

describe("downloads and the reads allowance", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { RATE_LIMIT_READS: "3" } });
  });
  after(() => server?.close());

  test("only valid links count against their user's reads allowance; past it a download is 429", async () => {
    const ann = await person(server, "Ann");
    const token = await server.token(ann.id);
    const uploaded = await uploadFile(server.url, token, "a.txt", Buffer.from("a"));
    const forged = withParam(uploaded.url, "s", "A".repeat(22));
    // made-up links are refused before anything is counted, so they can't use up Ann's allowance
    for (let i = 0; i < 5; i++) assert.equal((await download(server.url, forged)).status, 404);
    for (let i = 0; i < 3; i++)
      assert.equal((await download(server.url, uploaded.url)).status, 200, `download ${i + 1}`);
    const refused = await download(server.url, uploaded.url);
    assert.equal(refused.status, 429);
    assert.equal(
      (JSON.parse(refused.body.toString()) as { error: { code: string } }).error.code,
      "RATE_LIMITED",
    );
    assert.match(refused.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  });
});
