/**
 * Live sockets are checked again: a socket whose token expired or was revoked, or whose user was
 * disabled or moved to another scope, is told `session:ended { code }` and disconnected; a socket
 * that handed over a fresh token with `session:refresh` stays. The clock is the test's, and the
 * check is run on demand, so nothing sleeps.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import type { SessionEndedCode } from "../../src/protocol/index.js";
import { request, startServer, type TestServer, type TestSocket } from "../support/harness.js";

/** A server whose clock only moves when the test says so. */
/** What the PHP app does when a user changes company: a new scope in the directory's table. */
async function moveToScope(server: TestServer, userId: string, scope: string): Promise<void> {
  if (!server.database) {
    server.db.prepare("UPDATE directory_users SET scope = ? WHERE id = ?").run(scope, Number(userId));
    return;
  }
  // on PostgreSQL the built-in directory is in the chat database
  const client = new pg.Client({ connectionString: server.database.url });
  await client.connect();
  try {
    await client.query("UPDATE directory_users SET scope = $1 WHERE id = $2", [scope, userId]);
  } finally {
    await client.end();
  }
}

async function clockedServer(): Promise<{ server: TestServer; advance(ms: number): void; nowS(): number }> {
  let now = Date.now();
  const server = await startServer({ app: { now: () => now } });
  return {
    server,
    advance: (ms) => {
      now += ms;
    },
    nowS: () => Math.floor(now / 1000),
  };
}

/** Resolves with the `session:ended` code and the disconnect reason, in the order they came. */
function ending(socket: TestSocket): Promise<{ code: SessionEndedCode; reason: string }> {
  return new Promise((resolve, reject) => {
    let code: SessionEndedCode | null = null;
    socket.once("session:ended", (payload) => {
      code = payload.code;
    });
    socket.once("disconnect", (reason) => {
      if (code === null) reject(new Error(`disconnected (${reason}) without session:ended`));
      else resolve({ code, reason });
    });
  });
}

describe("live sockets are ended when their session is over", () => {
  test("a socket whose token expired gets session:ended AUTH_EXPIRED and is disconnected", async () => {
    const { server, advance } = await clockedServer();
    try {
      const ann = await server.addUser("Ann Expiring");
      const socket = await server.connect({ token: await server.app.tokens.sign(ann.id, 60) });
      const ended = ending(socket);
      advance(30_000);
      await server.app.recheckNow();
      assert.equal(socket.connected, true, "not before the token expires");
      advance(31_000);
      await server.app.recheckNow();
      assert.deepEqual(await ended, { code: "AUTH_EXPIRED", reason: "io server disconnect" });
    } finally {
      await server.close();
    }
  });

  test("session:refresh with a fresh token for the same user keeps the socket past the first expiry", async () => {
    const { server, advance } = await clockedServer();
    try {
      const ann = await server.addUser("Ann Refreshing");
      const bob = await server.addUser("Bob Other");
      const socket = await server.connect({ token: await server.app.tokens.sign(ann.id, 60) });
      advance(50_000);
      const fresh = await server.app.tokens.sign(ann.id, 60);
      const refreshed = await request(socket, "session:refresh", { token: fresh });
      assert.equal(refreshed.ok, true, JSON.stringify(refreshed));
      const other = await request(socket, "session:refresh", {
        token: await server.app.tokens.sign(bob.id, 60),
      });
      assert.equal(!other.ok && other.error.code, "FORBIDDEN", "another user's token does not switch users");
      advance(30_000); // past the first token's expiry, within the fresh one's
      await server.app.recheckNow();
      assert.equal((await request(socket, "room:list", {})).ok, true);
      const ended = ending(socket);
      advance(31_000);
      await server.app.recheckNow();
      assert.equal((await ended).code, "AUTH_EXPIRED");
    } finally {
      await server.close();
    }
  });

  test("a socket whose token was revoked gets session:ended AUTH_INVALID", async () => {
    const { server, nowS } = await clockedServer();
    try {
      const ann = await server.addUser("Ann Revoked");
      const socket = await server.connect(ann);
      const ended = ending(socket);
      // as another node's server API "disconnect" would leave it: the revocation only
      await server.app.store.revokeTokens(ann.id, nowS());
      await server.app.recheckNow();
      assert.equal((await ended).code, "AUTH_INVALID");
    } finally {
      await server.close();
    }
  });

  test("a user moved to another scope gets session:ended SCOPE_CHANGED; others of the old scope stay", async () => {
    const { server } = await clockedServer();
    try {
      const ann = await server.addUser("Ann Moving", { scope: "company-1" });
      const cid = await server.addUser("Cid Staying", { scope: "company-1" });
      const moving = await server.connect(ann);
      const staying = await server.connect(cid);
      const ended = ending(moving);
      await moveToScope(server, ann.id, "company-2");
      await server.app.recheckNow();
      assert.equal((await ended).code, "SCOPE_CHANGED");
      assert.equal(staying.connected, true);
      assert.equal((await request(staying, "room:list", {})).ok, true);
    } finally {
      await server.close();
    }
  });

  test("a disabled user gets session:ended USER_DISABLED", async () => {
    const { server } = await clockedServer();
    try {
      const ann = await server.addUser("Ann Disabled");
      const socket = await server.connect(ann);
      const ended = ending(socket);
      await server.builtin!.setActive(ann.login, false);
      await server.app.recheckNow();
      assert.equal((await ended).code, "USER_DISABLED");
    } finally {
      await server.close();
    }
  });

  test("the server API's disconnect tells every socket of the user session:ended AUTH_INVALID", async () => {
    const key = "service-key-for-the-session-end-tests-0123456789";
    const server = await startServer({ env: { SERVICE_API_KEY: key } });
    try {
      const ann = await server.addUser("Ann Signed Out");
      const sockets = [await server.connect(ann), await server.connect(ann, { transports: ["polling"] })];
      const ended = sockets.map(ending);
      const response = await fetch(`${server.url}/api/server/users/${ann.id}/disconnect`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(response.status, 200);
      for (const end of ended) assert.equal((await end).code, "AUTH_INVALID");
    } finally {
      await server.close();
    }
  });

  test("the session event says when the token expires", async () => {
    const { server, nowS } = await clockedServer();
    try {
      const ann = await server.addUser("Ann Session");
      const token = await server.app.tokens.sign(ann.id, 600);
      const socket = (await import("socket.io-client")).io(server.url, {
        auth: { token },
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
      });
      const session = await new Promise<{ expiresAt?: string | null }>((resolve) =>
        socket.once("session", resolve),
      );
      socket.close();
      assert.equal(session.expiresAt, new Date((nowS() + 600) * 1000).toISOString());
    } finally {
      await server.close();
    }
  });
});
