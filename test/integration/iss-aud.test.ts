/**
 * `iss` and `aud`: required by default in production (AUTH_JWT_REQUIRE_ISS_AUD), set by the PHP
 * kit, with tokens made by real PHP. Only HS256 stays accepted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import {
  craftToken,
  requireService,
  startServer,
  TEST_SECRET,
  type TestServer,
  type TestUser,
} from "../support/harness.js";
import { php } from "../support/php.js";

const KIT = join(import.meta.dirname, "../../integrations/php/TimeWiseChat.php");
const skip = await requireService("php");

/** A token made by the PHP kit; `options` are the kit's constructor options (issuer, audience). */
async function kitToken(userId: string, options: Record<string, string> = {}): Promise<string> {
  return php(
    "require $argv[1]; $chat = new TimeWiseChat('http://unused', $argv[2], null, json_decode($argv[3], true)); echo $chat->token((int) $argv[4], 600);",
    [KIT, TEST_SECRET, JSON.stringify(options), userId],
  );
}

/** A token made the bare PHP way (as older docs showed it): no iss, no aud. */
async function bareToken(userId: string): Promise<string> {
  return php(
    `$b = fn($s) => rtrim(strtr(base64_encode($s), "+/", "-_"), "=");
     $h = $b(json_encode(["alg" => "HS256", "typ" => "JWT"]));
     $p = $b(json_encode(["sub" => $argv[1], "iat" => time(), "exp" => time() + 600]));
     echo "$h.$p." . $b(hash_hmac("sha256", "$h.$p", $argv[2], true));`,
    [userId, TEST_SECRET],
  );
}

const production = { NODE_ENV: "production", CORS_ORIGINS: "https://timewise.example" };

describe("iss and aud in production", { skip }, () => {
  let server: TestServer;
  let ann: TestUser;
  before(async () => {
    server = await startServer({ env: production });
    ann = await server.addUser("Ann Claims");
  });
  after(() => server.close());

  test("a token from the PHP kit is accepted", async () => {
    (await server.connect({ token: await kitToken(ann.id) })).close();
  });

  test("a PHP token without iss and aud is refused AUTH_INVALID", async () => {
    assert.equal((await server.connectRefused({ token: await bareToken(ann.id) })).code, "AUTH_INVALID");
  });

  test("a wrong iss or aud is refused, and HS512 stays refused", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: ann.id, iat: now, exp: now + 600, iss: "timewise", aud: "timewise-chat" };
    for (const bad of [
      craftToken({ ...claims, iss: "another-app" }, { secret: TEST_SECRET }),
      craftToken({ ...claims, aud: "another-service" }, { secret: TEST_SECRET }),
      craftToken(claims, { secret: TEST_SECRET, alg: "HS512" }),
    ]) {
      assert.equal((await server.connectRefused({ token: bad })).code, "AUTH_INVALID");
    }
    (await server.connect({ token: craftToken(claims, { secret: TEST_SECRET }) })).close();
  });

  test("the server's own login tokens carry iss and aud", async () => {
    const token = await server.token(ann.id);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims.iss, "timewise");
    assert.equal(claims.aud, "timewise-chat");
    (await server.connect({ token })).close();
  });
});

describe("configured iss and aud", { skip }, () => {
  test("AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE are what the kit is told to use", async () => {
    const server = await startServer({
      env: { ...production, AUTH_JWT_ISSUER: "acme-timewise", AUTH_JWT_AUDIENCE: "acme-chat" },
    });
    try {
      const ann = await server.addUser("Ann Acme");
      const told = await kitToken(ann.id, { issuer: "acme-timewise", audience: "acme-chat" });
      (await server.connect({ token: told })).close();
      assert.equal((await server.connectRefused({ token: await kitToken(ann.id) })).code, "AUTH_INVALID");
    } finally {
      await server.close();
    }
  });

  test("outside production, or with AUTH_JWT_REQUIRE_ISS_AUD=false, a token without them is accepted", async () => {
    for (const env of [{}, { ...production, AUTH_JWT_REQUIRE_ISS_AUD: "false" }]) {
      const server = await startServer({ env });
      try {
        const ann = await server.addUser("Ann Lenient");
        (await server.connect({ token: await bareToken(ann.id) })).close();
      } finally {
        await server.close();
      }
    }
  });

  test("the setting's defaults follow NODE_ENV", () => {
    const dev = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET });
    assert.equal(dev.auth.checkIssuer, false);
    const prod = loadConfig({ ...production, AUTH_JWT_SECRET: TEST_SECRET });
    assert.deepEqual(
      [prod.auth.issuer, prod.auth.audience, prod.auth.checkIssuer, prod.auth.checkAudience],
      ["timewise", "timewise-chat", true, true],
    );
  });
});
