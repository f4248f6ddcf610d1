/**
 * TRUST_PROXY: behind the reverse proxy each user has an allowance of their own, and a client
 * that is not a trusted proxy cannot pick a fresh allowance by writing X-Forwarded-For itself.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { ClientAddresses } from "../../src/http/client-address.js";
import { startServer, type TestServer } from "../support/harness.js";

/** A failed sign-in sent as if through a proxy that saw `forwardedFor`; answers the status. */
async function failLogin(server: TestServer, forwardedFor: string): Promise<number> {
  const response = await fetch(`${server.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    body: JSON.stringify({ username: `nobody-${Math.random()}`, password: "wrong" }),
  });
  await response.text();
  return response.status;
}

const loginLimits = { perIp: 3, ipWindowS: 60, perUsername: 100, usernameWindowS: 300 };

describe("sign-in limits per client address behind a reverse proxy", () => {
  test("behind a trusted proxy two users get separate allowances", async () => {
    const server = await startServer({ env: { TRUST_PROXY: "127.0.0.1" }, app: { loginLimits } });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await failLogin(server, "203.0.113.7"), 401);
      assert.equal(await failLogin(server, "203.0.113.7"), 429, "the first user is limited");
      assert.equal(await failLogin(server, "203.0.113.8"), 401, "the second user is not");
      // the proxy appends what it saw: a left-most address the client wrote changes nothing
      assert.equal(await failLogin(server, "198.51.100.1, 203.0.113.7"), 429);
    } finally {
      await server.close();
    }
  });

  test("from a peer that is not a trusted proxy X-Forwarded-For is ignored", async () => {
    const server = await startServer({ env: { TRUST_PROXY: "10.0.0.0/8" }, app: { loginLimits } });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await failLogin(server, `203.0.113.${i}`), 401);
      assert.equal(await failLogin(server, "203.0.113.99"), 429, "a new forwarded address is no way out");
    } finally {
      await server.close();
    }
  });
});

describe("the client address of a request", () => {
  const request = (peer: string, forwardedFor?: string | string[]) =>
    ({
      socket: { remoteAddress: peer },
      headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
    }) as unknown as IncomingMessage;
  const addresses = new ClientAddresses(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);

  const cases: [string, IncomingMessage, string][] = [
    ["no proxy settings: the peer", request("203.0.113.5", "1.2.3.4"), "203.0.113.5"],
    ["a trusted peer without the header: the peer", request("127.0.0.1"), "127.0.0.1"],
    ["a trusted peer: the forwarded address", request("127.0.0.1", "203.0.113.5"), "203.0.113.5"],
    ["an IPv4-mapped trusted peer", request("::ffff:127.0.0.1", "203.0.113.5"), "203.0.113.5"],
    [
      "two trusted hops: the right-most untrusted",
      request("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.1.2.3"),
      "203.0.113.5",
    ],
    ["several headers are one list", request("127.0.0.1", ["198.51.100.1", "203.0.113.5"]), "203.0.113.5"],
    ["an IPv6 range", request("fd00::1", "2001:db8::5"), "2001:db8::5"],
    [
      "garbage ends the chain at the last proxy",
      request("127.0.0.1", "203.0.113.5, not-an-ip, 10.0.0.2"),
      "10.0.0.2",
    ],
    ["only trusted hops: the left-most", request("127.0.0.1", "10.0.0.9, 10.0.0.2"), "10.0.0.9"],
  ];
  for (const [name, req, expected] of cases) {
    test(name, () => {
      const used = name.startsWith("no proxy") ? new ClientAddresses([]) : addresses;
      assert.equal(used.of(req), expected);
    });
  }
});

describe("TRUST_PROXY settings", () => {
  for (const bad of ["everyone", "10.0.0.0/33", "10.0.0.1/8/2", "::1/129", "10.0.0.0/x"]) {
    test(`"${bad}" stops start-up with one line naming TRUST_PROXY`, () => {
      try {
        loadConfig({ TRUST_PROXY: `127.0.0.1, ${bad}` });
        assert.fail("accepted");
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 1);
        assert.match(error.problems[0]!, /^TRUST_PROXY: /);
      }
    });
  }

  test("addresses and ranges of both families are accepted", () => {
    const config = loadConfig({ TRUST_PROXY: "127.0.0.1, ::1, 10.0.0.0/8, fd00::/8" });
    assert.deepEqual(config.trustProxy, ["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"]);
  });
});
