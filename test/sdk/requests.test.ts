/**
 * The SDK's request promises, typed errors and token handling, against a real server.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ChatAuthError, ChatClient, ChatError, MemoryStorage } from "../../src/sdk/index.js";
import { startServer, type TestServer, until } from "../support/harness.js";
import { sdkClient } from "../support/sdk.js";

let server: TestServer;
before(async () => {
  // the search test polls the index every 20 ms, which the usual 60 searches a minute would refuse
  server = await startServer({ env: { RATE_LIMIT_SEARCHES: "100000" } });
});
after(async () => {
  await server?.close();
});

test("every request event answers through a promise with its typed result", async (t) => {
  const alice = await server.addUser("Alice Request");
  const bob = await server.addUser("Bob Request");
  const carol = await server.addUser("Carol Request");
  const a = await sdkClient(t, server, alice);

  const { users } = await a.request("user:search", { query: "Request" });
  assert.deepEqual(users.map((u) => u.name).sort(), ["Bob Request", "Carol Request"]);
  const { room: direct } = await a.request("room:direct", { userId: bob.id });
  assert.equal(direct.type, "direct");
  assert.equal(a.state.room(direct.id)?.id, direct.id, "a room in an answer lands in the state");

  const { room: group } = await a.request("room:create", { name: "Plans", memberIds: [bob.id] });
  assert.equal((await a.request("room:update", { roomId: group.id, name: "Plans 2" })).room.name, "Plans 2");
  const added = await a.request("room:addMembers", { roomId: group.id, userIds: [carol.id] });
  assert.deepEqual(added.room.members.map((m) => m.userId).sort(), [alice.id, bob.id, carol.id].sort());
  const promoted = await a.request("room:setRole", { roomId: group.id, userId: bob.id, role: "admin" });
  assert.equal(promoted.room.members.find((m) => m.userId === bob.id)?.role, "admin");
  const removed = await a.request("room:removeMember", { roomId: group.id, userId: carol.id });
  assert.deepEqual(removed.room.members.map((m) => m.userId).sort(), [alice.id, bob.id].sort());
  assert.equal((await a.request("room:get", { roomId: group.id })).room.name, "Plans 2");
  assert.deepEqual(
    (await a.request("room:list", {})).rooms.map((r) => r.id).sort(),
    [direct.id, group.id].sort(),
  );

  const message = await a.send(group.id, "first plan");
  const { message: edited } = await a.request("message:edit", { messageId: message.id, body: "better plan" });
  assert.equal(edited.body, "better plan");
  const { message: reacted } = await a.request("message:react", {
    messageId: message.id,
    emoji: "👍",
    on: true,
  });
  assert.deepEqual(reacted.reactions, { "👍": [alice.id] });
  const history = await a.request("message:history", { roomId: group.id });
  assert.deepEqual(
    history.messages.map((m) => m.body),
    ["better plan"],
  );
  assert.equal(history.hasMore, false);
  const changes = await a.request("message:changes", { roomId: group.id, sinceRev: 0 });
  assert.equal(changes.rev, reacted.rev);
  let found: string[] = [];
  // the search index is written in the background: poll until it has the message
  await until(
    async () => {
      found = (await a.request("message:search", { query: "plan" })).messages.map((m) => m.id);
      return found.length > 0;
    },
    12_000,
    "the message in the search index",
  );
  assert.deepEqual(found, [message.id]);
  assert.deepEqual(await a.request("room:read", { roomId: group.id, seq: 1 }), { readSeq: 1 });
  const { presence } = await a.request("presence:get", { userIds: [bob.id] });
  assert.equal(presence[bob.id]?.online, false);
  assert.deepEqual(await a.request("typing", { roomId: group.id, typing: true }), {});
  const { message: deleted } = await a.request("message:delete", { messageId: message.id });
  assert.equal(deleted.deleted, true);
  assert.deepEqual(await a.request("room:leave", { roomId: group.id }), {});
  assert.equal(a.state.room(group.id), undefined, "a room I left leaves the state");
});

test("a refused request rejects with a ChatError that carries the contract's code", async (t) => {
  const a = await sdkClient(t, server, await server.addUser());
  await assert.rejects(a.request("room:get", { roomId: "987654321" }), (error: unknown) => {
    assert.ok(error instanceof ChatError);
    assert.equal(error.code, "NOT_FOUND");
    return true;
  });
  await assert.rejects(
    a.request("message:history", { roomId: "1", limit: 0 }),
    (error: unknown) => error instanceof ChatError && error.code === "BAD_REQUEST",
  );
});

test("an expired token is refreshed through getToken and the client connects", async (t) => {
  const user = await server.addUser();
  const reasons: string[] = [];
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  const a = await sdkClient(t, server, user, {
    getToken: async (reason) => {
      reasons.push(reason);
      return reason === "refresh" ? server.token(user.id) : server.app.tokens.sign(user.id, 60, hourAgo);
    },
  });
  assert.deepEqual(reasons, ["connect", "refresh"]);
  assert.equal(a.status, "online");
  assert.equal(a.state.me?.id, user.id);
});

test("a token that can't be refreshed signs the client out with a typed error", async (t) => {
  const client = new ChatClient({
    url: server.url,
    token: "not-a-token",
    storage: new MemoryStorage(),
    requestTimeoutMs: 5000,
    socketOptions: { transports: ["websocket"] },
  });
  t.after(() => client.close());
  const refused = await new Promise<ChatAuthError>((resolve) => client.on("auth-error", resolve));
  assert.equal(refused.code, "AUTH_INVALID");
  assert.equal(client.status, "signed-out");
  await assert.rejects(
    client.request("room:list", {}),
    ChatAuthError,
    "requests fail at once when signed out",
  );
});
