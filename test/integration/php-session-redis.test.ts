/**
 * Signing in with the PHP session cookie, redis store: real PHP with phpredis
 * (`session.save_handler = redis`) writes the session, under phpredis's default prefix and under
 * a custom one. Destroyed and expired (Redis drops the key after gc_maxlifetime) sessions are
 * refused, and a connected socket is dropped at the next re-check.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { connectWithCookie, PAGE_ORIGIN, refusedWithCookie, watchDisconnect } from "../support/cookies.js";
import { requireService, startServer, type TestServer, type TestUser, until } from "../support/harness.js";
import { phpDestroySession, phpStartSession, phpUnsetKey, redisSetup } from "../support/php-session.js";

const skip = await requireService("redis", "php-redis");
const RECHECK_WITHIN_MS = 8000;

describe("PHP session cookie, redis store", { skip }, () => {
  const prefix = `twc_test_${randomBytes(4).toString("hex")}:`;
  let byDefault: TestServer;
  let custom: TestServer;
  let redis: Redis;
  let ann: TestUser;
  let annCustom: TestUser;

  before(async () => {
    redis = new Redis({ host: "127.0.0.1", port: 6379 });
    const common = {
      PHP_SESSION_STORE: "redis",
      CORS_ORIGINS: PAGE_ORIGIN,
      AUTH_RECHECK_S: "1",
      PHP_SESSION_REDIS_URL: "redis://127.0.0.1:6379",
    };
    byDefault = await startServer({ env: common });
    custom = await startServer({ env: { ...common, PHP_SESSION_REDIS_PREFIX: prefix } });
    ann = await byDefault.addUser("Ann Redis");
    annCustom = await custom.addUser("Ann Custom Prefix");
  });
  after(async () => {
    await Promise.all([byDefault?.close(), custom?.close()]);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  test("a phpredis session under the default PHPREDIS_SESSION: prefix signs the socket in", async () => {
    const id = await phpStartSession(redisSetup(), { user_id: Number(ann.id) });
    assert.ok(await redis.exists(`PHPREDIS_SESSION:${id}`), "phpredis stored it under its default prefix");
    const { socket, userId } = await connectWithCookie(byDefault.url, { cookie: `PHPSESSID=${id}` });
    assert.equal(userId, ann.id);
    socket.close();
    await phpDestroySession(redisSetup(), id);
  });

  test("a custom prefix is honoured, and another prefix's session is unknown", async () => {
    const id = await phpStartSession(redisSetup(prefix), { user_id: annCustom.id });
    const { socket, userId } = await connectWithCookie(custom.url, { cookie: `PHPSESSID=${id}` });
    assert.equal(userId, annCustom.id);
    socket.close();
    assert.equal(
      (await refusedWithCookie(byDefault.url, { cookie: `PHPSESSID=${id}` })).code,
      "AUTH_INVALID",
    );
  });

  test("destroyed, logged-out and expired sessions are refused", async () => {
    const setup = redisSetup(prefix);
    const destroyed = await phpStartSession(setup, { user_id: annCustom.id });
    await phpDestroySession(setup, destroyed);
    const loggedOut = await phpStartSession(setup, { user_id: annCustom.id });
    await phpUnsetKey(setup, loggedOut, "user_id");
    // phpredis gives the key gc_maxlifetime as its TTL: after that, Redis has forgotten it
    const expiring = await phpStartSession(redisSetup(prefix, 1), { user_id: annCustom.id });
    await until(async () => (await redis.exists(`${prefix}${expiring}`)) === 0, 5000, "the key expired");
    for (const id of [destroyed, loggedOut, expiring]) {
      assert.equal((await refusedWithCookie(custom.url, { cookie: `PHPSESSID=${id}` })).code, "AUTH_INVALID");
    }
  });

  test("a connected socket is dropped at the next re-check once its session expires or is destroyed", async () => {
    const expiring = await phpStartSession(redisSetup(prefix, 2), { user_id: annCustom.id });
    const destroyed = await phpStartSession(redisSetup(prefix), { user_id: annCustom.id });
    const live = await phpStartSession(redisSetup(prefix), { user_id: annCustom.id });
    const sockets = await Promise.all(
      [expiring, destroyed, live].map((id) => connectWithCookie(custom.url, { cookie: `PHPSESSID=${id}` })),
    );
    const gone = sockets.map(({ socket }) => watchDisconnect(socket));
    await phpDestroySession(redisSetup(prefix), destroyed);
    await until(() => gone[0]!() && gone[1]!(), RECHECK_WITHIN_MS + 2000, "both sockets dropped");
    assert.equal(gone[2]!(), false, "the live session keeps its socket");
    sockets[2]!.socket.close();
  });

  test("garbage in Redis is refused and the server carries on", async () => {
    const id = `garbage${randomBytes(12).toString("hex")}`;
    await redis.set(`${prefix}${id}`, Buffer.from([0x75, 0x7c, 0xff, 0x00, 0x4f, 0x3a]));
    assert.equal((await refusedWithCookie(custom.url, { cookie: `PHPSESSID=${id}` })).code, "AUTH_INVALID");
    assert.equal((await fetch(`${custom.url}/health`)).status, 200);
  });
});
