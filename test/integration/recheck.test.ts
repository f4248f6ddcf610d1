/**
 * Live connections are checked again every AUTH_RECHECK_S: a disabled or deleted user loses every
 * socket, everyone else keeps theirs.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request, startServer, type TestServer, type TestSocket, until } from "../support/harness.js";

const RECHECK_WITHIN_MS = 8000;

/** Counts disconnects of `socket`, to poll on. */
function watch(socket: TestSocket): { disconnected: () => boolean } {
  let gone = false;
  socket.on("disconnect", () => {
    gone = true;
  });
  return { disconnected: () => gone };
}

describe("re-checking live connections", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { AUTH_RECHECK_S: "1" } });
  });
  after(() => server.close());

  test("disabling a user disconnects all of their sockets and leaves other users connected", async () => {
    const dan = await server.addUser("Dan Disabled");
    const eve = await server.addUser("Eve Stays");
    const dan1 = watch(await server.connect(dan));
    const dan2Socket = await server.connect(dan, { transports: ["polling"] });
    const dan2 = watch(dan2Socket);
    const eveSocket = await server.connect(eve);
    const eveWatch = watch(eveSocket);

    await server.builtin!.setActive(dan.login, false);
    await until(() => dan1.disconnected() && dan2.disconnected(), RECHECK_WITHIN_MS, "Dan's sockets closed");

    assert.equal(eveWatch.disconnected(), false);
    assert.equal((await request(eveSocket, "room:list", {})).ok, true, "Eve's socket still answers");
    const refusal = await server.connectRefused({ token: await server.token(dan.id) });
    assert.equal(refusal.code, "USER_DISABLED");
  });

  test("removing a user disconnects their socket, and their token is then USER_UNKNOWN", async () => {
    const rex = await server.addUser("Rex Removed");
    const sue = await server.addUser("Sue Stays");
    const rexWatch = watch(await server.connect(rex));
    const sueSocket = await server.connect(sue);

    await server.builtin!.remove(rex.login);
    await until(rexWatch.disconnected, RECHECK_WITHIN_MS, "Rex's socket closed");

    assert.equal(sueSocket.connected, true);
    const refusal = await server.connectRefused({ token: await server.token(rex.id) });
    assert.equal(refusal.code, "USER_UNKNOWN");
  });

  test("re-enabling a disabled user lets them connect again within a few seconds", async () => {
    const tom = await server.addUser("Tom Toggle");
    const tomWatch = watch(await server.connect(tom));
    await server.builtin!.setActive(tom.login, false);
    await until(tomWatch.disconnected, RECHECK_WITHIN_MS, "Tom's socket closed");
    await server.builtin!.setActive(tom.login, true);
    const token = await server.token(tom.id);
    await until(
      () =>
        server.connect({ token }).then(
          (socket) => {
            socket.close();
            return true;
          },
          () => false,
        ),
      RECHECK_WITHIN_MS,
      "Tom accepted again after re-enabling",
    );
  });

  test("a user who stays active keeps the connection across several re-checks", async () => {
    const kim = await server.addUser("Kim Active");
    const socket = await server.connect(kim);
    const kimWatch = watch(socket);
    const deadline = Date.now() + 3500;
    await until(() => Date.now() > deadline || kimWatch.disconnected(), 5000);
    assert.equal(kimWatch.disconnected(), false, "an active user was disconnected by a re-check");
    assert.equal((await request(socket, "room:list", {})).ok, true);
    socket.close();
  });
});
