/**
 * The server against a real MariaDB users table shaped like a PHP app's, with password hashes and
 * tokens made by real PHP: sign-in with bcrypt `$2y$` and argon2id, "First Last" names, the active
 * column, company scopes, and the re-check of live connections seeing changes made in MySQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import {
  collect,
  connectWithToken,
  ok,
  request,
  requireService,
  serverEnv,
  spawnServer,
  startServer,
  TEST_SECRET,
  type TestServer,
  tempDir,
  until,
} from "../support/harness.js";
import { createTestDatabase, phpUsersTable, type TestDatabase } from "../support/mariadb.js";
import { php, phpPasswordHash } from "../support/php.js";

const skip = await requireService("mariadb", "php");

const USERS_ENV = {
  USERS_NAME_COLUMN: "first_name,last_name",
  USERS_ACTIVE_COLUMN: "active",
  USERS_SCOPE_COLUMN: "company_id",
};

interface Row {
  username: string;
  first: string;
  last: string | null;
  password: string | null;
  active?: number;
  company: number;
}

async function insert(db: TestDatabase, row: Row): Promise<string> {
  const [result] = await db.conn.execute<ResultSetHeader>(
    "INSERT INTO users (username, first_name, last_name, password, active, company_id) VALUES (?, ?, ?, ?, ?, ?)",
    [row.username, row.first, row.last, row.password, row.active ?? 1, row.company],
  );
  return String(result.insertId);
}

async function login(url: string, username: string, password: string) {
  const response = await fetch(`${url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A token minted the way a PHP app does it: hash_hmac over base64url JSON, integer sub. */
async function phpToken(userId: string, secret: string): Promise<string> {
  return php(
    `$b = fn($s) => rtrim(strtr(base64_encode($s), "+/", "-_"), "=");
     $h = $b(json_encode(["typ" => "JWT", "alg" => "HS256"]));
     $p = $b(json_encode(["sub" => (int) $argv[1], "iat" => time(), "exp" => time() + 3600]));
     echo "$h.$p." . $b(hash_hmac("sha256", "$h.$p", $argv[2], true));`,
    [userId, secret],
  );
}

describe("a server on a PHP app's MariaDB users table", { skip }, () => {
  let db: TestDatabase;
  let server: TestServer;
  const id: Record<string, string> = {};
  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    id.ann = await insert(db, {
      username: "ann",
      first: "Ann",
      last: "Lee",
      password: await phpPasswordHash("ann-pw"),
      company: 1,
    });
    id.ben = await insert(db, {
      username: "ben",
      first: "Ben",
      last: "Okafor",
      password: await phpPasswordHash("ben-pw", "PASSWORD_ARGON2ID"),
      company: 1,
    });
    id.dee = await insert(db, {
      username: "dee",
      first: "Dee",
      last: "Gone",
      password: await phpPasswordHash("dee-pw"),
      active: 0,
      company: 1,
    });
    id.ulla = await insert(db, { username: "ulla", first: "Ulla", last: null, password: null, company: 1 });
    id.zoe = await insert(db, {
      username: "zoe",
      first: "Zoe",
      last: "Park",
      password: await phpPasswordHash("zoe-pw"),
      company: 2,
    });
    server = await startServer({ env: { ...db.env, ...USERS_ENV } });
  });
  after(async () => {
    await server?.close();
    await db?.drop();
  });

  test("the PHP hashes are what PHP makes: bcrypt $2y$ and argon2id", async () => {
    const [rows] = await db.conn.query(
      "SELECT username, password FROM users WHERE username IN ('ann', 'ben')",
    );
    const hashes = Object.fromEntries(
      (rows as { username: string; password: string }[]).map((r) => [r.username, r.password]),
    );
    assert.match(hashes.ann!, /^\$2y\$10\$/);
    assert.match(hashes.ben!, /^\$argon2id\$/);
  });

  test("POST /api/login accepts a PHP bcrypt $2y$ hash and names the user 'First Last'", async () => {
    const reply = await login(server.url, "ann", "ann-pw");
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(reply.body.user, { id: id.ann, name: "Ann Lee" });
    const socket = await server.connect({ token: reply.body.token as string });
    assert.equal((await request(socket, "room:list", {})).ok, true);
    socket.close();
  });

  test("POST /api/login accepts a PHP argon2id hash", async () => {
    const reply = await login(server.url, "ben", "ben-pw");
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(reply.body.user, { id: id.ben, name: "Ben Okafor" });
  });

  test("wrong password, inactive user, unknown user and a NULL password answer the same 401", async () => {
    const wrong = await login(server.url, "ann", "nope");
    assert.equal(wrong.status, 401);
    for (const [user, pw] of [
      ["dee", "dee-pw"],
      ["nobody", "x"],
      ["ulla", "x"],
      ["ben", "ann-pw"],
    ] as const) {
      const reply = await login(server.url, user, pw);
      assert.equal(reply.status, 401, user);
      assert.deepEqual(reply.body, wrong.body, `${user} gets the same answer`);
    }
  });

  test("passwords with accents, emoji and more than 72 bytes work with PHP bcrypt and argon2id", async () => {
    const password = `Pässwörd €😀 ${"x".repeat(80)}`;
    for (const algo of ["PASSWORD_BCRYPT", "PASSWORD_ARGON2ID"] as const) {
      const username = `uni_${algo.toLowerCase()}`;
      await insert(db, {
        username,
        first: "Uni",
        last: algo,
        password: await phpPasswordHash(password, algo),
        company: 1,
      });
      const reply = await login(server.url, username, password);
      assert.equal(reply.status, 200, `${algo}: ${JSON.stringify(reply.body)}`);
      assert.equal(
        (await login(server.url, username, password.normalize("NFD"))).status,
        401,
        `${algo}: NFD differs`,
      );
    }
  });

  test("a password column holding something that is not a PHP hash answers 401, not 500", async () => {
    for (const [username, hash] of [
      ["md5user", "5f4dcc3b5aa765d61d8327deb882cf99"],
      ["plainuser", "password"],
      ["emptyuser", ""],
      ["brokenbcrypt", "$2y$10$tooshort"],
    ] as const) {
      await insert(db, { username, first: "Odd", last: "Hash", password: hash, company: 1 });
      const reply = await login(server.url, username, "password");
      assert.equal(reply.status, 401, `${username}: ${JSON.stringify(reply.body)}`);
    }
  });

  test('a token minted by PHP with an integer sub opens a socket, and user:search names users "First Last"', async () => {
    const token = await phpToken(id.ben!, TEST_SECRET);
    const socket = await server.connect({ token });
    const { users } = await ok(socket, "user:search", { query: "ann" });
    assert.deepEqual(users, [{ id: id.ann, name: "Ann Lee", login: "ann" }]);
    socket.close();
  });

  test("a user with a NULL last name is named by the first name alone", async () => {
    const socket = await server.connect({ token: await server.token(id.ann!) });
    const { users } = await ok(socket, "user:search", { query: "ulla" });
    assert.deepEqual(users, [{ id: id.ulla, name: "Ulla", login: "ulla" }]);
    socket.close();
  });

  test("an inactive user's token is refused with USER_DISABLED and an unknown id with USER_UNKNOWN", async () => {
    assert.equal((await server.connectRefused({ token: await server.token(id.dee!) })).code, "USER_DISABLED");
    assert.equal((await server.connectRefused({ token: await server.token("99999") })).code, "USER_UNKNOWN");
  });

  test("GET /ready answers 200 with MariaDB reachable", async () => {
    const response = await fetch(`${server.url}/ready`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, "ok");
  });

  test("user:search lists active users of the caller's company only", async () => {
    const socket = await server.connect({ token: await server.token(id.ann!) });
    const { users } = await ok(socket, "user:search", { query: "" });
    const ids = users.map((u) => u.id);
    assert.ok(ids.includes(id.ben!) && ids.includes(id.ulla!), "active users of company 1");
    for (const other of [id.zoe, id.dee, id.ann])
      assert.ok(!ids.includes(other!), "not another company, inactive or self");
    assert.deepEqual((await ok(socket, "user:search", { query: "zoe" })).users, []);
    socket.close();
  });

  test("room:direct with a user of another company answers NOT_FOUND", async () => {
    const socket = await server.connect({ token: await server.token(id.ann!) });
    const reply = await request(socket, "room:direct", { userId: id.zoe });
    assert.equal(reply.ok ? "ok" : reply.error.code, "NOT_FOUND");
    socket.close();
  });

  test("room:create with a member of another company answers NOT_FOUND and creates nothing", async () => {
    const ann = await server.connect({ token: await server.token(id.ann!) });
    const ben = await server.connect({ token: await server.token(id.ben!) });
    const benUpdates = collect(ben, "room:updated");
    const before = (await ok(ann, "room:list", {})).rooms.length;
    const reply = await request(ann, "room:create", { name: "Mixed", memberIds: [id.ben, id.zoe] });
    assert.equal(reply.ok ? "ok" : reply.error.code, "NOT_FOUND");
    assert.equal((await ok(ann, "room:list", {})).rooms.length, before);
    assert.equal((await ok(ben, "room:list", {})).rooms.length, 0);
    const same = await ok(ann, "room:create", { name: "Company one", memberIds: [id.ben!] });
    assert.deepEqual(
      same.room.members.map((m) => [m.userId, m.name]).sort(),
      [
        [id.ann, "Ann Lee"],
        [id.ben, "Ben Okafor"],
      ].sort(),
    );
    await until(() => benUpdates.some((r) => r.id === same.room.id), 5000, "Ben told of the new room");
    // the refused "Mixed" came first on the same socket: had Ben been told of it, it would be here
    assert.deepEqual(
      benUpdates.map((r) => [r.id, r.name]),
      [[same.room.id, "Company one"]],
    );
    ann.close();
    ben.close();
  });
});

describe("the real entry point on MariaDB", { skip }, () => {
  let db: TestDatabase;
  const scratch = tempDir();
  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
  });
  after(async () => {
    await db?.drop();
    scratch.remove();
  });

  test("a user deactivated or deleted in MySQL is disconnected by the re-check", async () => {
    const kim = await insert(db, {
      username: "kim",
      first: "Kim",
      last: "Roe",
      password: await phpPasswordHash("kim-pw"),
      company: 1,
    });
    const lou = await insert(db, {
      username: "lou",
      first: "Lou",
      last: "Poe",
      password: await phpPasswordHash("lou-pw"),
      company: 1,
    });
    const server = await spawnServer(
      serverEnv(`${scratch.dir}/chat.db`, { ...db.env, ...USERS_ENV, AUTH_RECHECK_S: "1" }),
    );
    try {
      const kimLogin = await login(server.url, "kim", "kim-pw");
      assert.equal(kimLogin.status, 200, JSON.stringify(kimLogin.body));
      const louLogin = await login(server.url, "lou", "lou-pw");
      const k = await connectWithToken(server.url, kimLogin.body.token as string);
      const l = await connectWithToken(server.url, louLogin.body.token as string);
      assert.deepEqual(k.user, { id: kim, name: "Kim Roe", login: "kim" });
      assert.deepEqual(l.user, { id: lou, name: "Lou Poe", login: "lou" });
      let kimGone = false;
      let louGone = false;
      k.socket.on("disconnect", () => (kimGone = true));
      l.socket.on("disconnect", () => (louGone = true));
      await db.conn.execute("UPDATE users SET active = 0 WHERE id = ?", [kim]);
      await until(() => kimGone, 8000, "Kim disconnected after deactivation");
      assert.equal(louGone, false);
      await db.conn.execute("DELETE FROM users WHERE id = ?", [lou]);
      await until(() => louGone, 8000, "Lou disconnected after deletion");
      assert.equal((await login(server.url, "kim", "kim-pw")).status, 401);
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });
});
