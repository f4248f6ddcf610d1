/**
 * The real entry point as a process manager runs it: start-up logs, the development warning,
 * `.env`, graceful shutdown on SIGTERM/SIGINT, and logs that never carry a token or a password.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  cliAddUser,
  connectWithToken,
  ok,
  ROOT,
  request,
  serverEnv,
  signToken,
  spawnServer,
  TEST_SECRET,
  tempDir,
  until,
} from "../support/harness.js";

const scratch = tempDir();
after(() => scratch.remove());
let n = 0;
const dbPath = () => join(scratch.dir, `chat-${++n}.db`);

describe("start-up", () => {
  test("with nothing but SQLITE_PATH and CHAT_PORT=0 the server starts and warns about AUTH_JWT_SECRET", async () => {
    const server = await spawnServer({ SQLITE_PATH: dbPath(), CHAT_PORT: "0" });
    try {
      const warning = server.stdout.concat(server.stderr).find((l) => l.includes("AUTH_JWT_SECRET"));
      assert.ok(warning, `a development warning naming AUTH_JWT_SECRET:\n${server.stdout.join("\n")}`);
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });

  test("the listening log line is pino JSON with the bound port and host", async () => {
    const server = await spawnServer(serverEnv(dbPath()));
    try {
      const line = server.logs().find((l) => l.msg === "TimeWise Chat is listening");
      assert.ok(line);
      assert.equal(line.port, server.port);
      assert.notEqual(server.port, 0);
      assert.equal(line.host, "127.0.0.1");
      assert.equal(typeof line.level, "number", "pino's numeric level");
      assert.ok(!server.stdout.some((l) => l.includes("AUTH_JWT_SECRET")), "no warning with a real secret");
    } finally {
      await server.stop();
    }
  });

  test("a .env file in the working directory is read, and the real environment wins over it", async () => {
    const cwd = tempDir("twc-dotenv-");
    const secret = "secret-from-the-dot-env-file-0123456789abc";
    try {
      const sqlite = dbPath();
      const id = await cliAddUser(sqlite, "dotenv", { name: "Dot Env" });
      // LOG_LEVEL=silent in .env would hide the listening line: the real environment must win.
      writeFileSync(join(cwd.dir, ".env"), `AUTH_JWT_SECRET=${secret}\nLOG_LEVEL=silent\n`);
      // the test's chat database (PostgreSQL on that pass, where the CLI put the user), minus the secret
      const { AUTH_JWT_SECRET: _fromTheTest, ...env } = serverEnv(sqlite, { LOG_LEVEL: "info" });
      const server = await spawnServer(env, { cwd: cwd.dir });
      try {
        assert.ok(!server.stdout.some((l) => l.includes("AUTH_JWT_SECRET")), "the .env secret is used");
        const { socket, user } = await connectWithToken(server.url, signToken(id, secret));
        assert.equal(user.id, id);
        socket.close();
        await assert.rejects(connectWithToken(server.url, signToken(id, TEST_SECRET)), /unauthorized/);
      } finally {
        await server.stop();
      }
    } finally {
      cwd.remove();
    }
  });
});

describe("the compiled build that npm start runs", () => {
  test("tsc's output of src starts with plain node, serves /health and stops on SIGTERM", async () => {
    const build = tempDir("twc-build-");
    try {
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      await promisify(execFile)(
        process.execPath,
        [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(build.dir, "dist")],
        {
          timeout: 120_000,
        },
      );
      // what a deployment has beside dist/: package.json ("type": "module") and node_modules
      copyFileSync(join(ROOT, "package.json"), join(build.dir, "package.json"));
      symlinkSync(join(ROOT, "node_modules"), join(build.dir, "node_modules"));
      const server = await spawnServer(
        { SQLITE_PATH: join(build.dir, "chat.db"), CHAT_PORT: "0", CHAT_HOST: "127.0.0.1" },
        { cwd: build.dir, nodeArgs: ["dist/src/main.js"] },
      );
      try {
        assert.equal((await fetch(`${server.url}/health`)).status, 200);
        assert.ok(server.stdout.concat(server.stderr).some((l) => l.includes("AUTH_JWT_SECRET")));
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    } finally {
      build.remove();
    }
  });
});

describe("graceful shutdown", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} with the server idle exits with code 0 promptly`, async () => {
      const server = await spawnServer(serverEnv(dbPath()));
      const started = Date.now();
      const exit = await server.stop(signal, 5000);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - started < 5000);
    });
  }

  test("SIGTERM with clients connected disconnects them and exits with code 0 promptly", async () => {
    const sqlite = dbPath();
    const ann = await cliAddUser(sqlite, "ann", { name: "Ann" });
    const bob = await cliAddUser(sqlite, "bob", { name: "Bob" });
    const server = await spawnServer(serverEnv(sqlite));
    const a = await connectWithToken(server.url, signToken(ann));
    const b = await connectWithToken(server.url, signToken(bob), { transports: ["polling"] });
    let disconnected = 0;
    a.socket.on("disconnect", () => disconnected++);
    b.socket.on("disconnect", () => disconnected++);
    try {
      const exit = await server.stop("SIGTERM", 5000);
      assert.deepEqual(exit, { code: 0, signal: null });
      await until(() => disconnected === 2, 5000, "both clients disconnected");
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  test("after SIGTERM the port no longer accepts connections", async () => {
    const server = await spawnServer(serverEnv(dbPath()));
    await server.stop();
    // refused by the system, not some other failure (a timeout, a reset mid-answer)
    await assert.rejects(fetch(`${server.url}/health`), (error: Error & { cause?: { code?: string } }) => {
      assert.equal(error.cause?.code, "ECONNREFUSED");
      return true;
    });
  });
});

describe("logs", () => {
  test("trace logs of a login, handshakes, HTTP calls and a message never contain the token, password or secret", async () => {
    const sqlite = dbPath();
    const password = "pw-ZORKMID-secret-77";
    await cliAddUser(sqlite, "logan", { name: "Logan Log", password });
    const other = await cliAddUser(sqlite, "other", { name: "Other" });
    const server = await spawnServer(serverEnv(sqlite, { LOG_LEVEL: "trace" }));
    const leaked: string[] = [];
    try {
      const login = await fetch(`${server.url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "logan", password }),
      });
      assert.equal(login.status, 200);
      const { token, user } = (await login.json()) as { token: string; user: { id: string } };
      leaked.push(token);
      const wrong = await fetch(`${server.url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "logan", password: `${password}-wrong` }),
      });
      assert.equal(wrong.status, 401);

      const { socket } = await connectWithToken(server.url, token);
      const bearer = signToken(user.id);
      leaked.push(bearer);
      const rooms = await fetch(`${server.url}/api/rooms`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      assert.equal(rooms.status, 200);
      const badToken = `${signToken(other).slice(0, -6)}AAAAAA`;
      leaked.push(badToken);
      await assert.rejects(connectWithToken(server.url, badToken), /unauthorized/);
      await assert.rejects(connectWithToken(server.url, signToken("999", TEST_SECRET, -120)), /unauthorized/);

      const { room } = await ok(socket, "room:direct", { userId: other });
      const body = "a private message QUUX-4242";
      const sent = await request(socket, "message:send", { roomId: room.id, body, clientId: "log-1" });
      assert.equal(sent.ok, true);
      socket.close();

      const output = () => server.stdout.concat(server.stderr).join("\n");
      await until(() => server.stdout.length > 0);
      const exit = await server.stop();
      assert.equal(exit.code, 0);
      for (const secret of [...leaked, password, `${password}-wrong`, TEST_SECRET]) {
        assert.ok(!output().includes(secret), `the logs contain ${secret.slice(0, 12)}…`);
      }
      assert.ok(!output().includes(body), "the logs contain a message body");
    } finally {
      await server.stop().catch(() => undefined);
    }
  });
});
