/**
 * `POST /api/files` has its own per-user allowance (RATE_LIMIT_UPLOADS uploads per minute, here
 * 3): past it the upload is answered 429 RATE_LIMITED with a message that says what to do and an
 * honest `retryAfterMs`, and nothing is stored.
 * Other users, and the same user's messages, are not affected; the window ends when the app's
 * clock (TestClock) is moved on. SQLite and PostgreSQL (TEST_CHAT_STORE=postgres).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { postFile } from "../support/files.js";
import { startServer, TestClock, type TestServer } from "../support/harness.js";
import { group, person, send } from "../support/rooms.js";

describe("the upload allowance", () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startServer({
      env: { RATE_LIMIT_UPLOADS: "3", RATE_LIMIT_MESSAGES: "2" },
      app: { now: clock.now },
    });
  });
  after(() => server?.close());

  test("the fourth upload in a minute is 429 with what to do, nothing is kept, and others are unaffected", async () => {
    const ann = await person(server);
    const bob = await person(server);
    const auth = `Bearer ${await server.token(ann.id)}`;
    const bytes = new Uint8Array(100).fill(65);
    // the messages allowance is its own: using it up leaves the uploads alone
    const room = await group(ann, [bob]);
    await send(ann.socket, room.id);
    await send(ann.socket, room.id);
    for (let i = 0; i < 3; i++) assert.equal((await postFile(server.url, auth, bytes)).status, 201);
    const used = await server.app.store.fileBytesOf(ann.id);
    assert.equal(used, 300);

    const res = await fetch(`${server.url}/api/files`, {
      method: "POST",
      headers: { authorization: auth },
      body: (() => {
        const form = new FormData();
        form.append("file", new Blob([bytes]), "one more.txt");
        return form;
      })(),
    });
    assert.equal(res.status, 429);
    const { error } = (await res.json()) as {
      error: { code: string; message: string; retryAfterMs: number };
    };
    assert.equal(error.code, "RATE_LIMITED");
    assert.equal(
      error.message,
      "You're uploading files too quickly. Wait a moment, then send the file again.",
    );
    assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 60_000, `retryAfterMs ${error.retryAfterMs}`);
    assert.equal(await server.app.store.fileBytesOf(ann.id), used, "nothing was kept");

    const bobAuth = `Bearer ${await server.token(bob.id)}`;
    assert.equal((await postFile(server.url, bobAuth, bytes)).status, 201, "Bob has his own allowance");

    clock.advance(error.retryAfterMs);
    assert.equal((await postFile(server.url, auth, bytes)).status, 201, "a new minute, a new allowance");
  });
});
