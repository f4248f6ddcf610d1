/**
 * (v2.4) The SDK's working-hours helpers against a real server: `setQuietHours` sets and removes
 * my quiet hours (a bad one is a typed `ChatError`), and `send(…, { urgent: true })` sends an
 * urgent message that the server lists; from a plain member it is refused and stays `failed`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ChatError } from "../../src/sdk/index.js";
import { ok, startServer, type TestServer } from "../support/harness.js";
import { group } from "../support/rooms.js";
import { sdkClient } from "../support/sdk.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.close());

test("setQuietHours sets them, answers my prefs, null removes them; a bad one is BAD_REQUEST", async (t) => {
  const user = await server.addUser("Sdk Quiet");
  const client = await sdkClient(t, server, user);
  const quiet = { timeZone: "Europe/Lisbon", from: "22:00", to: "07:00" };
  const prefs = await client.setQuietHours(quiet);
  assert.deepEqual(prefs.quietHours, quiet);
  // another session of mine reads what the server kept
  const other = await server.connect(user);
  try {
    assert.deepEqual((await ok(other, "user:prefs:get", {})).prefs.quietHours, quiet);
    await assert.rejects(
      client.setQuietHours({ timeZone: "Europe/Lisbon", from: "22:00", to: "22:00" }),
      (error: unknown) => error instanceof ChatError && error.code === "BAD_REQUEST",
    );
    assert.equal((await client.setQuietHours(null)).quietHours, null);
    assert.equal((await ok(other, "user:prefs:get", {})).prefs.quietHours, null);
  } finally {
    other.close();
  }
});

test("send with urgent: true is listed as urgent; a plain member's is FORBIDDEN and stays failed", async (t) => {
  const annUser = await server.addUser("Ann Sdk Urgent");
  const bobUser = await server.addUser("Bob Sdk Urgent");
  const ann = { id: annUser.id, user: annUser, socket: await server.connect(annUser) };
  t.after(() => ann.socket.close());
  const room = await group(ann, [{ id: bobUser.id }], "Sdk urgent");
  const annClient = await sdkClient(t, server, annUser);
  const bobClient = await sdkClient(t, server, bobUser);

  const urgent = await annClient.send(room.id, "Fire drill now", { urgent: true });
  const plain = await annClient.send(room.id, "Drill over");
  const listed = (await server.app.store.urgentMessages({ limit: 1000 })).filter((u) => u.roomId === room.id);
  assert.deepEqual(
    listed.map((u) => [u.messageId, u.senderId]),
    [[urgent.id, annUser.id]],
  );
  assert.notEqual(plain.id, urgent.id);

  await assert.rejects(
    bobClient.send(room.id, "Not mine to call urgent", { urgent: true }),
    (error: unknown) => error instanceof ChatError && error.code === "FORBIDDEN",
  );
  assert.deepEqual(
    bobClient.outbox.items().map((i) => [i.body, i.state, i.urgent, i.error?.code]),
    [["Not mine to call urgent", "failed", true, "FORBIDDEN"]],
  );
  assert.equal(
    (await server.app.store.urgentMessages({ limit: 1000 })).filter((u) => u.roomId === room.id).length,
    1,
  );
});
