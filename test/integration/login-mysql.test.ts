/**
 * `POST /api/login` against a real MariaDB users table with hashes made by real PHP: an unknown
 * user costs as much as a wrong password whatever algorithm and cost the PHP app uses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { requireService, startServer, type TestServer } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, type TestDatabase } from "../support/mariadb.js";
import { phpPasswordHash } from "../support/php.js";

const skip = await requireService("mariadb", "php");

/** Signs in and answers the status and how long the answer took. */
async function login(url: string, username: string, password: string) {
  const started = performance.now();
  const response = await fetch(`${url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  await response.text();
  return { status: response.status, ms: performance.now() - started };
}

/** Median unknown-user time over median wrong-password time, over interleaved rounds. */
async function timingRatio(url: string, login_: string, rounds = 7): Promise<number> {
  // the first of each kind warms up the paths (and shows the dummy the directory's hash shape)
  await login(url, login_, "warm-up");
  await login(url, "nobody-warm-up", "warm-up");
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const w = await login(url, login_, `wrong-${i}`);
    const u = await login(url, `nobody-${i}`, `wrong-${i}`);
    assert.equal(w.status, 401);
    assert.equal(u.status, 401);
    wrong.push(w.ms);
    unknown.push(u.ms);
  }
  const median = (times: number[]) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  return median(unknown) / median(wrong);
}

for (const [label, algo, options] of [
  ["bcrypt cost 12", "PASSWORD_BCRYPT", { cost: 12 }],
  ["argon2id", "PASSWORD_ARGON2ID", {}],
] as const) {
  describe(`sign-in timing with the PHP app's ${label} hashes`, { skip }, () => {
    let db: TestDatabase;
    let server: TestServer;
    before(async () => {
      db = await createTestDatabase();
      await db.conn.query(phpUsersTable());
      const hash = await phpPasswordHash("the-right-one", algo, options);
      await db.conn.execute("INSERT INTO users (username, password) VALUES (?, ?)", ["ann", hash]);
      server = await startServer({ env: db.env });
    });
    after(async () => {
      await server?.close();
      await db?.drop();
    });

    test("an unknown user takes about as long as a wrong password (medians within a factor of 2)", async () => {
      const ratio = await timingRatio(server.url, "ann");
      // Skipping the hash check for unknown users makes this ratio about 0.01; a factor of 2 still
      // catches that, while a busy CI machine (seen: 0.72 with argon2id) does not fail it.
      assert.ok(ratio > 0.5 && ratio < 2, `unknown / wrong = ${ratio.toFixed(2)}`);
      assert.equal((await login(server.url, "ann", "the-right-one")).status, 200);
    });
  });
}

describe("sign-in limits are keyed on the directory's user id", { skip }, () => {
  let db: TestDatabase;
  let server: TestServer;
  before(async () => {
    db = await createTestDatabase();
    // utf8mb4_unicode_ci, as most PHP apps have it: "ALICE" and "alice " name the same row
    await db.conn.query(phpUsersTable());
    const cheap = { cost: 4 };
    for (const [login, password] of [
      ["alice", "alice-pw"],
      ["bob", "bob-pw"],
    ] as const) {
      const hash = await phpPasswordHash(password, "PASSWORD_BCRYPT", cheap);
      await db.conn.execute("INSERT INTO users (username, password) VALUES (?, ?)", [login, hash]);
    }
    server = await startServer({
      env: db.env,
      app: { loginLimits: { perIp: 100, ipWindowS: 60, perUsername: 4, usernameWindowS: 300 } },
    });
  });
  after(async () => {
    await server?.close();
    await db?.drop();
  });

  test("failures typed as ALICE and 'alice ' share alice's lock-out; bob can still sign in", async () => {
    for (const typed of ["ALICE", "alice ", "Alice", "ALICE  "]) {
      assert.equal((await login(server.url, typed, "wrong")).status, 401, typed);
    }
    assert.equal((await login(server.url, "alice", "alice-pw")).status, 429, "alice is locked out");
    assert.equal((await login(server.url, "aLiCe", "alice-pw")).status, 429, "however it is typed");
    assert.equal((await login(server.url, "bob", "bob-pw")).status, 200, "bob is not");
  });
});
